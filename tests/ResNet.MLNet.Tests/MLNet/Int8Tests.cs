using Microsoft.ML;
using Microsoft.ML.Data;
using ResNet.MLNet.Data;
using ResNet.MLNet.Tests.TestSupport;
using Xunit.Abstractions;

namespace ResNet.MLNet.Tests.MLNet;

/// <summary><c>Precision = Int8</c> in the featurizer and the classifier: close to float32, and saved twins equal to the live model.</summary>
public class Int8Tests(ITestOutputHelper output)
{
    [Fact]
    public void Int8_featurizer_with_pretrained_weights_stays_close_to_float32_and_its_saved_twin_equals_it()
    {
        var ml = new MLContext(seed: 1);
        var images = ml.Data.LoadImageRows(ImageFolder.List(Repo.SampleData, new ImageFolderOptions { Split = "test" }).Where((_, i) => i % 2 == 0).ToList());
        var load = ml.Transforms.LoadImages("Image", null, "ImagePath");
        var float32 = load.Append(ml.Transforms.ResNetFeaturizer("Features", "Image", weightsPath: "resnet18.mlnet_in1k")).Fit(images);
        var int8 = load.Append(ml.Transforms.ResNetFeaturizer(new ResNetFeaturizerOptions
        {
            OutputColumnName = "Features", InputColumnName = "Image", WeightsPath = "resnet18.mlnet_in1k", Precision = ResNetPrecision.Int8,
            Int8 = new Int8Options { CalibrationImages = 16 },
        })).Fit(images);
        using var floatFeaturizer = float32.LastTransformer;
        using var int8Featurizer = int8.LastTransformer;

        var expected = ResNetFeaturizerTests.Features(float32.Transform(images), "Features");
        var actual = ResNetFeaturizerTests.Features(int8.Transform(images), "Features");
        var cosines = expected.Zip(actual, global::ResNet.MLNet.Cli.Commands.BenchPretrainedCommand.Cosine).ToList();
        output.WriteLine($"{cosines.Count} images: cosine with float32 min {cosines.Min():F4}, mean {cosines.Average():F4}");
        Assert.True(cosines.Average() >= 0.985, $"mean cosine with float32 {cosines.Average():F4}");
        Assert.True(cosines.Min() >= 0.95, $"minimum cosine with float32 {cosines.Min():F4}");
        Assert.True(cosines.Any(c => c < 0.99999), "int8 features equal float32 features: the quantized graph is not what runs");

        // Saved and reloaded, ML.NET's OnnxTransformer runs the same QDQ graph (one row at a time).
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "int8.zip");
        ml.Model.Save(int8, images.Schema, path);
        var reloaded = ResNetFeaturizerTests.Features(ml.Model.Load(path, out _).Transform(images), "Features");
        double scale = actual.Max(f => f.Max(Math.Abs));
        double difference = reloaded.Zip(actual).Max(p => p.First.Zip(p.Second).Max(v => Math.Abs(v.First - v.Second)));
        output.WriteLine($"saved twin vs live: max |difference| {difference:G3} (max |feature| {scale:G3})");
        Assert.True(difference <= 1e-3 * scale, $"saved twin differs from the live int8 featurizer by {difference:G3}");
    }

    [Fact]
    public void Int8_classifier_predicts_like_its_float32_self()
    {
        var ml = new MLContext(seed: 3);
        IDataView Load(string split) => ml.Data.LoadImageRows(ImageFolder.List(Repo.SampleData, new ImageFolderOptions { Split = split }).Where((_, i) => i % 2 == 0).ToList());
        var (train, test) = (Load("train"), Load("test"));
        var prepare = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.LoadImages("Image", null, "ImagePath")).Fit(train);
        var options = ResNetClassifierTests.Tiny(epochs: 2);
        options.Training.Seed = 5;
        using var float32 = ml.MulticlassClassification.Trainers.ResNetClassifier(options).Fit(prepare.Transform(train));
        options.Precision = ResNetPrecision.Int8;
        using var int8 = ml.MulticlassClassification.Trainers.ResNetClassifier(options).Fit(prepare.Transform(train));

        var a = Predictions(float32.Transform(prepare.Transform(test)));
        var b = Predictions(int8.Transform(prepare.Transform(test)));
        double agreement = a.Zip(b).Count(p => p.First == p.Second) / (double)a.Count;
        output.WriteLine($"top-1 agreement int8 vs float32 on {a.Count} images: {agreement:P1}");
        Assert.True(agreement >= 0.9, $"top-1 agreement {agreement:P1}");
    }

    [Fact]
    public void Int8_needs_the_ONNX_Runtime_engine_and_valid_options()
    {
        var ml = new MLContext(seed: 1);
        var e = Assert.Throws<ArgumentException>(() => ml.Transforms.ResNetFeaturizer(new ResNetFeaturizerOptions
        {
            Precision = ResNetPrecision.Int8, Engine = ResNetInferenceEngine.TorchSharp,
        }));
        Assert.Contains("Precision = Int8 runs on ONNX Runtime; set Engine = OnnxRuntime", e.Message);
        var bits = Assert.Throws<ArgumentException>(() => ml.Transforms.ResNetFeaturizer(new ResNetFeaturizerOptions
        {
            Precision = ResNetPrecision.Int8, Int8 = new Int8Options { WeightBits = 4 },
        }));
        Assert.Contains("Int8Options.WeightBits must be 7 or 8; got 4", bits.Message);
        var classifier = ResNetClassifierTests.Tiny();
        classifier.Precision = ResNetPrecision.Int8;
        classifier.Engine = ResNetInferenceEngine.TorchSharp;
        Assert.Throws<ArgumentException>(() => ml.MulticlassClassification.Trainers.ResNetClassifier(classifier));
    }

    private static List<uint> Predictions(IDataView scored)
    {
        using var cursor = scored.GetRowCursor([scored.Schema["PredictedLabel"]]);
        var getter = cursor.GetGetter<uint>(scored.Schema["PredictedLabel"]);
        var result = new List<uint>();
        uint value = 0;
        while (cursor.MoveNext())
        {
            getter(ref value);
            result.Add(value);
        }
        return result;
    }
}
