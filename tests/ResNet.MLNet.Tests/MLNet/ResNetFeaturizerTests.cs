using Microsoft.ML;
using Microsoft.ML.Data;
using ResNet.MLNet.Data;
using ResNet.MLNet.Tests.TestSupport;
using Xunit.Abstractions;

namespace ResNet.MLNet.Tests.MLNet;

public class ResNetFeaturizerTests(ITestOutputHelper output)
{
    internal static ResNetFeaturizerOptions Small(ResNetInferenceEngine engine = ResNetInferenceEngine.OnnxRuntime, int batch = 16) => new()
    {
        OutputColumnName = "Features",
        InputColumnName = "Image",
        Architecture = ResNetArchitecture.ResNet18,
        ImageSize = 32,
        BatchSize = batch,
        Engine = engine,
    };

    [Fact]
    public void Linear_probe_on_the_sample_data_beats_chance()
    {
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadImagesFromFolder(Repo.SampleData, new ImageFolderOptions { Split = "train" });
        var test = ml.Data.LoadImagesFromFolder(Repo.SampleData, new ImageFolderOptions { Split = "test" });
        var pipeline = ml.Transforms.LoadImages("Image", null, "ImagePath")
            .Append(ml.Transforms.ResNetFeaturizer(Small()))
            .Append(ml.Transforms.Conversion.MapValueToKey("Label"))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy("Label", "Features"));
        var model = pipeline.Fit(train);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
        output.WriteLine($"micro accuracy {metrics.MicroAccuracy:F3}, macro {metrics.MacroAccuracy:F3}");
        Assert.True(metrics.MicroAccuracy > 0.3, $"accuracy {metrics.MicroAccuracy}");
        (model.LastTransformer as IDisposable)?.Dispose();
        foreach (var t in model)
            (t as IDisposable)?.Dispose();
    }

    [Fact]
    public void Saved_model_reloads_in_plain_MLNet_with_the_same_features()
    {
        var ml = new MLContext(seed: 1);
        var images = ImageFolder.List(Repo.SampleData, new ImageFolderOptions { Split = "test" }).Where((_, i) => i % 10 == 0).ToList();
        var data = ml.Data.LoadFromEnumerable(images.Select(i => new ImageRow { ImagePath = i.ImagePath, Label = i.Label }));
        var model = ml.Transforms.LoadImages("Image", null, "ImagePath").Append(ml.Transforms.ResNetFeaturizer(Small())).Fit(data);
        string path = Path.Combine(Path.GetTempPath(), $"featurizer-{Guid.NewGuid():N}.zip");
        ml.Model.Save(model, data.Schema, path);

        var expected = Features(model.Transform(data), "Features");
        var reloaded = PlainMLNet.Score(path, images.Select(i => (i.ImagePath, i.Label)), "Features");
        File.Delete(path);
        model.LastTransformer.Dispose();

        Assert.Equal(expected.Count, reloaded.Count);
        for (int r = 0; r < expected.Count; r++)
        {
            var actual = reloaded[r]["Features"].EnumerateArray().Select(e => e.GetSingle()).ToArray();
            double worst = AssertClose.Relative(expected[r], actual, 1e-4);
            output.WriteLine($"row {r}: max relative difference {worst:G3}");
        }
    }

    internal static (MLContext Ml, IDataView Data) SampleImages(int every = 10, string split = "test")
    {
        var ml = new MLContext(seed: 1);
        var rows = ImageFolder.List(Repo.SampleData, new ImageFolderOptions { Split = split }).Where((_, i) => i % every == 0)
            .Select(i => new ImageRow { ImagePath = i.ImagePath, Label = i.Label });
        return (ml, ml.Transforms.LoadImages("Image", null, "ImagePath").Fit(ml.Data.LoadFromEnumerable(rows)).Transform(ml.Data.LoadFromEnumerable(rows)));
    }

    [Fact]
    public void Batched_unbatched_and_both_engines_agree()
    {
        var (_, data) = SampleImages();
        // Each featurizer with the same Seed (default 0): the same network.
        using var batched = new MLContext(seed: 1).Transforms.ResNetFeaturizer(Small(batch: 4)).Fit(data);
        using var single = new MLContext(seed: 1).Transforms.ResNetFeaturizer(Small(batch: 1)).Fit(data);
        using var torch = new MLContext(seed: 1).Transforms.ResNetFeaturizer(Small(ResNetInferenceEngine.TorchSharp, batch: 3)).Fit(data);
        var a = Features(batched.Transform(data), "Features");
        var b = Features(single.Transform(data), "Features");
        var c = Features(torch.Transform(data), "Features");
        Assert.Equal(10, a.Count);
        Assert.Equal(512, a[0].Length);
        for (int r = 0; r < a.Count; r++)
        {
            AssertClose.Relative(a[r], b[r], 1e-4);
            double worst = AssertClose.Relative(c[r], a[r], 1e-4);
            output.WriteLine($"row {r}: TorchSharp vs ONNX Runtime {worst:G3}");
        }
        Assert.False(a[0].SequenceEqual(a[1]));
    }

    [Fact]
    public void A_fitted_featurizer_does_not_keep_its_fit_time_data_alive_and_still_saves()
    {
        var (ml, data) = SampleImages();
        var (featurizer, fitData) = FitOnOwnCopy(ml);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(fitData.IsAlive, "the transformer holds the data view it was fitted on");

        using (featurizer)
        using (var stream = new MemoryStream())
        {
            ml.Model.Save(featurizer, data.Schema, stream); // the twin is built from the schema alone
            stream.Position = 0;
            var reloaded = ml.Model.Load(stream, out _);
            AssertClose.Relative(Features(featurizer.Transform(data), "Features")[0], Features(reloaded.Transform(data), "Features")[0], 1e-4);
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static (ResNetFeaturizerTransformer Featurizer, WeakReference Data) FitOnOwnCopy(MLContext ml)
    {
        var (_, data) = SampleImages();
        return (ml.Transforms.ResNetFeaturizer(Small()).Fit(data), new WeakReference(data));
    }

    [Fact]
    public void Random_weights_are_reported_through_the_Log_handler_not_the_console()
    {
        var (ml, data) = SampleImages();
        var messages = new List<string>();
        var options = Small();
        options.Log = (_, e) => { lock (messages) messages.Add(e.Message); };
        var stderr = Console.Error;
        var captured = new StringWriter();
        Console.SetError(captured);
        try
        {
            using var featurizer = ml.Transforms.ResNetFeaturizer(options).Fit(data);
            Assert.False(featurizer.IsPretrained);
        }
        finally
        {
            Console.SetError(stderr);
        }
        Assert.Contains(messages, m => m.Contains("not pretrained", StringComparison.Ordinal) && m.Contains("resnet18.mlnet_in1k", StringComparison.Ordinal));
        Assert.Equal("", captured.ToString());
    }

    [Fact]
    public void A_random_network_follows_its_Seed_option_and_not_the_MLContext_seed()
    {
        List<float[]> FeaturesOf(int contextSeed, long seed)
        {
            var (_, data) = SampleImages();
            var options = Small();
            options.Seed = seed;
            using var featurizer = new MLContext(contextSeed).Transforms.ResNetFeaturizer(options).Fit(data);
            return Features(featurizer.Transform(data), "Features");
        }

        var reference = FeaturesOf(contextSeed: 1, seed: 0);
        Assert.Equal(reference, FeaturesOf(contextSeed: 2, seed: 0)); // one rule: the component's seed
        var other = FeaturesOf(contextSeed: 1, seed: 7);
        Assert.True(reference.Zip(other).Any(p => p.First.Zip(p.Second).Any(v => Math.Abs(v.First - v.Second) > 1e-3f)),
            "Seed 7 built the same network as seed 0.");
    }

    [Fact]
    public void Cursors_keep_order_and_lazy_semantics()
    {
        var (ml, data) = SampleImages();
        using var featurizer = ml.Transforms.ResNetFeaturizer(Small(batch: 3)).Fit(data);
        var scored = featurizer.Transform(data);
        Assert.Equal(data.GetRowCount(), scored.GetRowCount());
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 512), scored.Schema["Features"].Type);

        // A cursor over other columns only never runs the network, and sees the input's rows in order.
        var paths = ml.Data.CreateEnumerable<PathRow>(scored, reuseRowObject: false).Select(r => r.ImagePath).ToList();
        var expectedPaths = ml.Data.CreateEnumerable<PathRow>(data, reuseRowObject: false).Select(r => r.ImagePath).ToList();
        Assert.Equal(expectedPaths, paths);

        // Two cursors at once give the same rows; a prediction engine (row-to-row) gives the batched values.
        var first = Features(scored, "Features");
        var second = Features(scored, "Features");
        Assert.Equal(first, second);
        var engine = ml.Model.CreatePredictionEngine<ImageRowWithImage, FeaturesRow>(
            ml.Transforms.LoadImages("Image", null, "ImagePath").Fit(data).Append(featurizer));
        var one = engine.Predict(new ImageRowWithImage { ImagePath = expectedPaths[4] });
        AssertClose.Relative(first[4], one.Features, 1e-4);
    }

    [Fact]
    public void Wrong_input_type_fails_at_schema_time()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { new ImageRow { ImagePath = "x.png", Label = "a" } });
        var estimator = ml.Transforms.ResNetFeaturizer("Features", "ImagePath", ResNetArchitecture.ResNet18);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(data));
        Assert.Contains("Schema mismatch for input column 'ImagePath': expected Image", e.Message);
        Assert.Contains("got String", e.Message);
        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ResNetFeaturizer("Features", "Picture").Fit(data));
        Assert.Contains("'Picture'", missing.Message);
    }

    [Fact]
    public void Corrupt_image_fails_naming_the_file_and_row()
    {
        string dir = Directory.CreateTempSubdirectory("resnet-corrupt").FullName;
        try
        {
            var good = ImageFolder.List(Repo.SampleData, new ImageFolderOptions { Split = "test" }).Take(5).ToList();
            var paths = good.Select(g => g.ImagePath).ToList();
            string corrupt = Path.Combine(dir, "broken.png");
            File.WriteAllBytes(corrupt, [0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4]);
            paths.Insert(3, corrupt);
            var ml = new MLContext(seed: 1);
            var rows = ml.Data.LoadFromEnumerable(paths.Select(p => new ImageRow { ImagePath = p, Label = "x" }));
            var model = ml.Transforms.LoadImages("Image", null, "ImagePath").Append(ml.Transforms.ResNetFeaturizer(Small(batch: 2))).Fit(rows);
            var e = Assert.Throws<InvalidDataException>(() => Features(model.Transform(rows), "Features"));
            Assert.Contains("row 3", e.Message);
            Assert.Contains(corrupt, e.Message);
            model.LastTransformer.Dispose();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    internal static List<float[]> Features(IDataView view, string column)
    {
        var result = new List<float[]>();
        using var cursor = view.GetRowCursor([view.Schema[column]]);
        var getter = cursor.GetGetter<VBuffer<float>>(view.Schema[column]);
        VBuffer<float> value = default;
        while (cursor.MoveNext())
        {
            getter(ref value);
            result.Add(value.DenseValues().ToArray());
        }
        return result;
    }

    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }

    private sealed class ImageRowWithImage
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
    }

    private sealed class FeaturesRow
    {
        public float[] Features { get; set; } = [];
    }

    internal sealed class ImageRow
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
    }
}
