using ResNet.MLNet.Applications;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using ResNet.MLNet.Data;
using ResNet.MLNet.Training;
using Spectre.Console;

namespace ResNet.MLNet.Cli.Commands;

/// <summary>
/// <c>resnet-mlnet bench pretrained</c>: what pretrained weights buy on an image folder, in one run. Linear probe
/// (ML.NET's L-BFGS maximum entropy on the features of the train split, accuracy on the test split) with the toolkit's
/// featurizer from the weights, from a random initialization, and ML.NET's own <c>DnnFeaturizeImage</c> ResNet-18,
/// with featurization speed and the cosine similarity of the toolkit's features to ML.NET's; then fine-tuning the same
/// network from the weights and from scratch with one recipe. A benchmark, not a test: it takes minutes.
/// </summary>
internal static class BenchPretrainedCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Image folder with train/ and test/ class folders.", DefaultValueFactory = _ => "data/fashion-mnist" };
        var weights = new Option<string>("--weights") { Description = "Pretrained weights (a registry name or a file).", DefaultValueFactory = _ => "resnet18.mlnet_in1k" };
        var epochs = new Option<int>("--epochs") { Description = "Fine-tuning epochs; 0 skips fine-tuning.", DefaultValueFactory = _ => 5 };
        var imageSize = new Option<int>("--image-size") { Description = "Fine-tuning input size (the probe uses the weights' own, 224).", DefaultValueFactory = _ => 64 };
        var lr = new Option<float>("--lr") { Description = "Fine-tuning peak learning rate (AdamW, one-cycle).", DefaultValueFactory = _ => 1e-3f };
        var json = new Option<bool>("--json") { Description = "Print one JSON object at the end." };
        var int8Bits = new Option<int>("--int8-weight-bits") { Description = "Weight bits of the int8 featurizer (7 or 8).", DefaultValueFactory = _ => 7 };
        var int8Calibration = new Option<int>("--int8-calibration") { Description = "Calibration images of the int8 featurizer.", DefaultValueFactory = _ => 32 };
        var command = new Command("pretrained", "Linear probe and fine-tuning from pretrained weights vs random initialization, and the featurizer vs ML.NET's DnnFeaturizeImage.")
        {
            data, weights, epochs, imageSize, lr, int8Bits, int8Calibration, json,
        };
        command.SetAction(parse => CliOutput.Guard(parse, () =>
        {
            var log = parse.InvocationConfiguration.Error;
            string folder = parse.GetValue(data)!, weightsName = parse.GetValue(weights)!;
            var ml = new MLContext(seed: 1);
            var train = ml.Data.LoadImagesFromFolder(folder, new ImageFolderOptions { Split = "train" });
            var test = ml.Data.LoadImagesFromFolder(folder, new ImageFolderOptions { Split = "test" });
            var load = BenchSupport.LoadAverage();
            log.WriteLine($"bench pretrained: {folder}, {train.GetRowCount()} train / {test.GetRowCount()} test images, weights {weightsName}; load {BenchSupport.FormatLoad(load)}");

            var probes = new List<ProbeResult>();
            var pretrained = ml.Transforms.ResNetFeaturizer("Features", "Image", weightsPath: weightsName);
            var architecture = WeightsSourceArchitecture(weightsName);
            probes.Add(Probe(ml, "toolkit featurizer, pretrained", pretrained, train, test, log, out var toolkitFeatures, out var probe));
            probes.Add(Probe(ml, "ML.NET DnnFeaturizeImage ResNet-18", MLNetFeaturizer(ml), train, test, log, out var mlnetFeatures, out _));
            probes.Add(Probe(ml, "toolkit featurizer, random init", ml.Transforms.ResNetFeaturizer(new ResNetFeaturizerOptions
            {
                OutputColumnName = "Features", InputColumnName = "Image", Architecture = architecture, ImageSize = 224,
            }), train, test, log, out _, out _));
            probes.Add(Probe(ml, "toolkit featurizer, pretrained, int8", ml.Transforms.ResNetFeaturizer(new ResNetFeaturizerOptions
            {
                OutputColumnName = "Features", InputColumnName = "Image", WeightsPath = weightsName, Precision = ResNetPrecision.Int8,
                Int8 = new Int8Options { WeightBits = parse.GetValue(int8Bits), CalibrationImages = parse.GetValue(int8Calibration) },
            }), train, test, log, out var int8Features, out _));
            var cosines = toolkitFeatures.Zip(mlnetFeatures, Cosine).ToList();
            var testImages = ImageFolder.List(folder, new ImageFolderOptions { Split = "test" });
            var fidelity = Fidelity(ml, weightsName, testImages, toolkitFeatures, probe, log);
            var int8 = Agreement(ml, "int8 vs float32 features", probe, toolkitFeatures, int8Features, testImages, log);

            var fineTunes = new List<FineTuneResult>();
            int epochCount = parse.GetValue(epochs);
            if (epochCount > 0)
            {
                fineTunes.Add(FineTune(ml, $"from {weightsName}", weightsName, architecture, train, test, epochCount, parse.GetValue(imageSize), parse.GetValue(lr), log));
                fineTunes.Add(FineTune(ml, "from random init", null, architecture, train, test, epochCount, parse.GetValue(imageSize), parse.GetValue(lr), log));
            }

            var report = new Report(folder, weightsName, Environment.ProcessorCount, BenchSupport.FormatLoad(load), probes,
                cosines.Count == 0 ? 0 : cosines.Min(), cosines.Count == 0 ? 0 : cosines.Average(), fidelity, int8, fineTunes);
            if (parse.GetValue(json))
                parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(report, CliOutput.Json));
            else
                Print(CliOutput.Console(parse), report);
            return 0;
        }));
        return command;
    }

    private static Models.ResNetOptions? WeightsSourceArchitecture(string weights) =>
        Weights.WeightsSource.Resolve(weights).Architecture is { } name ? Models.ResNetModels.Options(name) : null;

    /// <summary>ML.NET's documented pipeline: resize to 224 (IsoCrop), pixels 0–255, its ImageNet ResNet-18.</summary>
    private static IEstimator<ITransformer> MLNetFeaturizer(MLContext ml) =>
        ml.Transforms.ResizeImages("Resized", 224, 224, "Image")
            .Append(ml.Transforms.ExtractPixels("Pixels", "Resized"))
            .Append(ml.Transforms.DnnFeaturizeImage("Features", m => m.ModelSelector.ResNet18(ml, m.OutputColumn, m.InputColumn), "Pixels"));

    private static ProbeResult Probe(MLContext ml, string name, IEstimator<ITransformer> featurizer, IDataView train, IDataView test, TextWriter log,
        out List<float[]> testFeatures, out ITransformer probe)
    {
        var featurize = ml.Transforms.LoadImages("Image", null, "ImagePath").Append(featurizer).Fit(train);
        var clock = Stopwatch.StartNew();
        // Reading the Features column runs the featurizer into the cache, once per split.
        var trainFeatures = ml.Data.Cache(featurize.Transform(train), "Features", "Label");
        var testView = ml.Data.Cache(featurize.Transform(test), "Features", "Label");
        testFeatures = Features(testView);
        int rows = Features(trainFeatures).Count + testFeatures.Count;
        double imagesPerSecond = rows / clock.Elapsed.TotalSeconds;

        probe = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy("Label", "Features"))
            .Fit(trainFeatures);
        var metrics = ml.MulticlassClassification.Evaluate(probe.Transform(testView));
        foreach (var t in featurize)
            (t as IDisposable)?.Dispose();
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  probe {name}: accuracy {metrics.MicroAccuracy:F4}, featurized {rows} images at {imagesPerSecond:F1}/s"));
        return new ProbeResult(name, metrics.MicroAccuracy, metrics.LogLoss, imagesPerSecond);
    }

    /// <summary>
    /// Preprocessing fidelity: the same network and weights fed by the ML.NET pipeline (ML.NET's resize) and by
    /// torchvision's exact preprocessing (antialiased bilinear resize of the shorter side, centre crop; <see cref="ImagePreprocessing"/>):
    /// cosine of the embeddings and agreement of the probe's top-1 on them.
    /// </summary>
    private static FidelityResult Fidelity(MLContext ml, string weights, IReadOnlyList<ImageFolderEntry> images, List<float[]> pipelineFeatures,
        ITransformer probe, TextWriter log)
    {
        var setup = NetworkSetup.Create(null, null, weights, null, null, null, seed: 0, defaultArchitecture: null);
        using var model = setup.Model;
        model.eval();
        var torchvisionInput = setup.Input with { Interpolation = ImageInterpolation.Bilinear };
        var exact = new List<float[]>();
        using (TorchSharp.torch.no_grad())
        {
            foreach (var image in images)
            {
                using var scope = TorchSharp.torch.NewDisposeScope();
                var pixels = ImagePreprocessing.Load(image.ImagePath, torchvisionInput);
                using var x = pixels.ToBatch();
                exact.Add(model.ForwardEmbedding(x).data<float>().ToArray());
            }
        }
        return Agreement(ml, "preprocessing fidelity", probe, pipelineFeatures, exact, images, log);
    }

    /// <summary>Cosine of two embeddings of the same images, and how often the probe's top-1 on them agrees.</summary>
    private static FidelityResult Agreement(MLContext ml, string name, ITransformer probe, List<float[]> reference, List<float[]> other,
        IReadOnlyList<ImageFolderEntry> images, TextWriter log)
    {
        var cosines = reference.Zip(other, Cosine).ToList();
        var a = Predictions(ml, probe, reference, images);
        var b = Predictions(ml, probe, other, images);
        double agreement = a.Zip(b).Count(p => p.First == p.Second) / (double)a.Count;
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {name} on {images.Count} images: cosine min {cosines.Min():F4} mean {cosines.Average():F4}, probe top-1 agreement {agreement:P1}"));
        return new FidelityResult(images.Count, cosines.Min(), cosines.Average(), agreement);
    }

    private static List<uint> Predictions(MLContext ml, ITransformer probe, List<float[]> features, IReadOnlyList<ImageFolderEntry> images)
    {
        var definition = SchemaDefinition.Create(typeof(FeatureRow));
        definition[nameof(FeatureRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, features[0].Length);
        var view = ml.Data.LoadFromEnumerable(features.Zip(images, (f, i) => new FeatureRow { Features = f, Label = i.Label }), definition);
        var scored = probe.Transform(view);
        var result = new List<uint>();
        using var cursor = scored.GetRowCursor([scored.Schema["PredictedLabel"]]);
        var getter = cursor.GetGetter<uint>(scored.Schema["PredictedLabel"]);
        uint value = 0;
        while (cursor.MoveNext())
        {
            getter(ref value);
            result.Add(value);
        }
        return result;
    }

    private sealed class FeatureRow
    {
        public float[] Features { get; set; } = [];
        public string Label { get; set; } = "";
    }

    private static FineTuneResult FineTune(MLContext ml, string name, string? weights, Models.ResNetOptions? architecture, IDataView train, IDataView test,
        int epochs, int imageSize, float lr, TextWriter log)
    {
        var options = new ResNetClassifierOptions
        {
            Architecture = architecture,
            WeightsPath = weights,
            Training = new TrainingOptions { Epochs = epochs, BatchSize = 32, LearningRate = lr, ImageSize = imageSize, Seed = 1 },
        };
        var clock = Stopwatch.StartNew();
        var model = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.LoadImages("Image", null, "ImagePath"))
            .Append(ml.MulticlassClassification.Trainers.ResNetClassifier(options)).Fit(train);
        double seconds = clock.Elapsed.TotalSeconds;
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
        using var classifier = model.LastTransformer;
        double epochSeconds = classifier.Training.History.Average(e => e.Seconds);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  fine-tune {name}: accuracy {metrics.MicroAccuracy:F4} after {epochs} epochs, {epochSeconds:F1} s/epoch"));
        return new FineTuneResult(name, epochs, imageSize, metrics.MicroAccuracy, metrics.LogLoss, epochSeconds, seconds);
    }

    private static List<float[]> Features(IDataView view)
    {
        var result = new List<float[]>();
        using var cursor = view.GetRowCursor([view.Schema["Features"]]);
        var getter = cursor.GetGetter<VBuffer<float>>(view.Schema["Features"]);
        VBuffer<float> value = default;
        while (cursor.MoveNext())
        {
            getter(ref value);
            result.Add(value.DenseValues().ToArray());
        }
        return result;
    }

    /// <summary>Cosine similarity of two vectors of the same length, in double.</summary>
    internal static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return dot / Math.Sqrt(na * nb);
    }

    private static void Print(IAnsiConsole console, Report r)
    {
        var probes = new Table().Title(Markup.Escape($"linear probe on {r.Data} ({r.Weights}), {r.ProcessorCount} cores, load {r.Load}"));
        probes.AddColumns("features", "accuracy", "log-loss", "featurize img/s");
        foreach (var p in r.Probes)
            probes.AddRow(Markup.Escape(p.Name), F(p.Accuracy, 4), F(p.LogLoss, 3), F(p.ImagesPerSecond, 1));
        console.Write(probes);
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"toolkit vs ML.NET features on the test split: cosine min {r.CosineMin:F6}, mean {r.CosineMean:F6}"));
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ML.NET pipeline vs torchvision's exact preprocessing, same weights ({r.Fidelity.Images} images): cosine min {r.Fidelity.CosineMin:F4}, mean {r.Fidelity.CosineMean:F4}; probe top-1 agreement {r.Fidelity.Top1Agreement:P1}"));
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"int8 vs float32 featurizer, same weights ({r.Int8.Images} images): cosine min {r.Int8.CosineMin:F4}, mean {r.Int8.CosineMean:F4}; float32 probe top-1 agreement {r.Int8.Top1Agreement:P1}"));
        if (r.FineTunes.Count == 0)
            return;
        var tunes = new Table().Title("fine-tuning, same recipe");
        tunes.AddColumns("start", "epochs", "size", "accuracy", "log-loss", "s/epoch");
        foreach (var f in r.FineTunes)
            tunes.AddRow(Markup.Escape(f.Name), f.Epochs.ToString(CultureInfo.InvariantCulture), f.ImageSize.ToString(CultureInfo.InvariantCulture),
                F(f.Accuracy, 4), F(f.LogLoss, 3), F(f.SecondsPerEpoch, 1));
        console.Write(tunes);
    }

    private static string F(double value, int digits) => value.ToString("F" + digits, CultureInfo.InvariantCulture);

    private sealed record ProbeResult(string Name, double Accuracy, double LogLoss, double ImagesPerSecond);

    private sealed record FineTuneResult(string Name, int Epochs, int ImageSize, double Accuracy, double LogLoss, double SecondsPerEpoch, double Seconds);

    private sealed record FidelityResult(int Images, double CosineMin, double CosineMean, double Top1Agreement);

    private sealed record Report(string Data, string Weights, int ProcessorCount, string Load, IReadOnlyList<ProbeResult> Probes, double CosineMin,
        double CosineMean, FidelityResult Fidelity, FidelityResult Int8, IReadOnlyList<FineTuneResult> FineTunes);
}
