using Microsoft.ML;
using Microsoft.ML.Data;
using ResNet.MLNet.Data;
using ResNet.MLNet.Tests.TestSupport;
using Xunit.Abstractions;

namespace ResNet.MLNet.Tests.MLNet;

public class ResNetFeaturizerTests(ITestOutputHelper output)
{
    private static ResNetFeaturizerOptions Small(ResNetInferenceEngine engine = ResNetInferenceEngine.OnnxRuntime, int batch = 16) => new()
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

    private sealed class ImageRow
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
    }
}
