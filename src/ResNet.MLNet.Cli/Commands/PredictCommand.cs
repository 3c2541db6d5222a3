using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ResNet.MLNet.Data;
using ResNet.MLNet.Explain;
using ResNet.MLNet.Models;
using ResNet.MLNet.Weights;
using Spectre.Console;
using static TorchSharp.torch;

namespace ResNet.MLNet.Cli.Commands;

/// <summary>
/// <c>resnet-mlnet predict</c>: classifies one image, either with a zoo network and a weight file (torchvision's
/// evaluation preprocessing, exactly) or with a saved ML.NET model whose input is an <c>ImagePath</c> column.
/// </summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var arch = new Option<string?>("--arch") { Description = "Architecture of the weights (see summary --list). Default: the one the weights record (registry names and files written by this toolkit)." };
        var weights = new Option<string?>("--weights") { Description = "Pretrained weights: a registry name (see 'weights list') or a file (.pth, .safetensors, .onnx, TorchSharp); its fc.weight gives the class count." };
        var model = new Option<string?>("--model") { Description = "A saved ML.NET model (model.zip) whose input has an ImagePath text column; instead of --arch/--weights." };
        var image = new Option<string>("--image") { Description = "The image file (PNG, JPEG, BMP, GIF, WebP).", Required = true };
        var resize = new Option<int?>("--resize") { Description = "Shorter side after resizing (bilinear, antialiased). Default: the weights' (256 for torchvision v1, 32 for CIFAR nets)." };
        var crop = new Option<int?>("--crop") { Description = "Side of the centre crop fed to the network. Default: the weights' (224; 32 for CIFAR nets)." };
        var top = new Option<int>("--top") { Description = "How many classes to list.", DefaultValueFactory = _ => 5 };
        var labels = new Option<string?>("--labels") { Description = "Text file with one class name per line, in class-index order. Default: the weights' class names (ImageNet's for registry weights, the recorded ones for files written by this toolkit)." };
        var mean = new Option<string?>("--mean") { Description = "Per-channel mean as r,g,b. Default: the weights' (ImageNet's 0.485,0.456,0.406)." };
        var std = new Option<string?>("--std") { Description = "Per-channel standard deviation as r,g,b. Default: the weights' (ImageNet's 0.229,0.224,0.225)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table." };
        var maxPixels = ImageLimitOption.Create();
        var allowNonFinite = new Option<bool>("--allow-nonfinite-weights") { Description = "Load weights holding NaN or infinite values (refused by default)." };
        var tta = new Option<bool>("--tta") { Description = "With --weights: average the probabilities over the ten-crop views (centre, corners, mirrored)." };
        var explain = new Option<string?>("--explain") { Description = "Also write a PNG of the crop the network saw beside its Grad-CAM heatmap for the top class. With --model, the run's weights.safetensors must be next to model.zip." };
        var command = new Command("predict", "Classify one image with a zoo network and its weights, or with a saved ML.NET model.")
        {
            arch, weights, model, image, resize, crop, top, labels, mean, std, json, maxPixels, allowNonFinite, explain, tta,
        };
        command.SetAction(parse => CliOutput.Guard(parse, () =>
        {
            string imagePath = parse.GetValue(image)!;
            int k = parse.GetValue(top);
            if (k < 1)
                return CliOutput.Fail(parse, $"--top must be at least 1; got {k}.");
            if (parse.GetValue(model) is { } modelPath)
            {
                var weightsOnly = new Option[] { arch, weights, resize, crop, labels, mean, std, allowNonFinite, tta }.Where(o => parse.GetResult(o) is { Implicit: false }).ToList();
                if (weightsOnly.Count > 0)
                    return CliOutput.Fail(parse, $"{string.Join(", ", weightsOnly.Select(o => o.Name))} apply to --arch/--weights, not to --model (the saved model holds its own preprocessing and classes).");
                var prediction = SavedModelPrediction.Predict(modelPath, imagePath, k, ImageLimitOption.Limits(parse, maxPixels));
                string? explained = null;
                if (parse.GetValue(explain) is { } explainPath)
                {
                    string runWeights = ZooModels.RunWeights(modelPath);
                    if (!File.Exists(runWeights))
                        return CliOutput.Fail(parse, $"--explain needs the network's weights, which finetune writes next to model.zip: '{runWeights}' does not exist. " +
                            "Use predict --weights WEIGHTS --explain with the weights the model was trained from.");
                    var run = ZooModels.Build(null, runWeights, numClasses: null, WeightsLoadOptions.Exact, parse.InvocationConfiguration.Error);
                    using var runNetwork = run.Model;
                    ExplanationImage.Write(explainPath, runNetwork, run.Input, ImageTensor.Load(imagePath, ImageLimitOption.Limits(parse, maxPixels)),
                        ZooModels.ClassIndex(run.Input, prediction.PredictedLabel) ?? prediction.Top[0].Index);
                    explained = explainPath;
                }
                return Print(parse, parse.GetValue(json), imagePath, Path.GetFileName(modelPath), prediction.Top, prediction.PredictedLabel, prediction.Scores, explained);
            }
            if (parse.GetValue(weights) is not { } weightsPath)
                return CliOutput.Fail(parse, "predict needs --weights (a file or a registry name, with --arch when the file does not record it), or --model MODEL.zip.");
            if (!File.Exists(imagePath))
                return CliOutput.Fail(parse, $"Image file '{Path.GetFullPath(imagePath)}' does not exist.");

            var setup = ZooModels.Build(parse.GetValue(arch), weightsPath, numClasses: null,
                WeightsLoadOptions.Exact with { AllowNonFinite = parse.GetValue(allowNonFinite) }, parse.InvocationConfiguration.Error);
            using var network = setup.Model;
            if (network.NumClasses == 0)
                return CliOutput.Fail(parse, $"{setup.Weights!.DisplayName} has no classifier head (features only): predict needs weights with an fc layer; use featurize for embeddings.");
            var input = setup.Input with
            {
                ImageSize = parse.GetValue(crop) ?? setup.Input.ImageSize,
                ResizeSize = parse.GetValue(resize) ?? setup.Input.ResizeSize,
                Mean = ParseTriple(parse.GetValue(mean), "--mean") ?? setup.Input.Mean,
                Std = ParseTriple(parse.GetValue(std), "--std") ?? setup.Input.Std,
            };
            input.Validate();
            var decoded = ImageTensor.Load(imagePath, ImageLimitOption.Limits(parse, maxPixels)); // decoded once for logits, TTA and Grad-CAM
            var names = parse.GetValue(labels) is { } labelsPath ? ReadLabels(labelsPath, network.NumClasses)
                : input.ClassNames?.Count == network.NumClasses ? input.ClassNames : null;
            float[] logits = Forward(network, ImagePreprocessing.Apply(decoded, input));
            var probabilities = parse.GetValue(tta)
                ? ClassificationInterpretation.Probabilities(network, decoded, input, testTimeAugmentation: true).Select(p => (double)p).ToArray()
                : Softmax(logits);
            var ranked = TopK(probabilities, k).Select(i => new Ranked(i, names?[i], probabilities[i])).ToList();
            if (parse.GetValue(explain) is { } explainTo)
                ExplanationImage.Write(explainTo, network, input, decoded, ranked[0].Index);
            return Print(parse, parse.GetValue(json), imagePath, $"{network.Options.Name} ({setup.Weights!.DisplayName})", ranked, null, logits, parse.GetValue(explain));
        }));
        return command;
    }

    /// <summary>One class of the top K: its index, its name when known, and its probability (or score).</summary>
    internal sealed record Ranked(int Index, string? Label, double Value);

    /// <summary>The network's logits for one preprocessed image, in eval mode without gradients.</summary>
    private static float[] Forward(ResNetModel network, ImageTensor image)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        network.eval();
        using var x = image.ToBatch();
        return network.forward(x).data<float>().ToArray();
    }

    private static double[] Softmax(float[] logits)
    {
        double max = logits.Max();
        var e = logits.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }

    /// <summary>Indices of the <paramref name="k"/> largest values, largest first (lower index first on ties).</summary>
    internal static IEnumerable<int> TopK(IReadOnlyList<double> values, int k) =>
        Enumerable.Range(0, values.Count).OrderByDescending(i => values[i]).ThenBy(i => i).Take(k);

    private static int Print(ParseResult parse, bool json, string image, string source, IReadOnlyList<Ranked> top, string? predictedLabel, IReadOnlyList<float> values,
        string? explanation)
    {
        bool fromModel = predictedLabel is not null;
        if (json)
        {
            var rows = top.Select(r => fromModel
                ? (object)new { index = r.Index, label = r.Label, score = r.Value }
                : new { index = r.Index, label = r.Label, probability = r.Value });
            object result = fromModel ? new { predicted_label = predictedLabel, scores = values, top = rows, explanation } : new { logits = values, top = rows, explanation };
            parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(result, CliOutput.Json));
            return 0;
        }
        var console = CliOutput.Console(parse);
        if (fromModel)
            console.MarkupLineInterpolated($"PredictedLabel: [bold]{predictedLabel}[/]");
        var table = new Table().Title(Markup.Escape($"{Path.GetFileName(image)} — {source}"));
        table.AddColumns("rank", "index", "label", fromModel ? "score" : "probability");
        int rank = 1;
        foreach (var r in top)
            table.AddRow((rank++).ToString(CultureInfo.InvariantCulture), r.Index.ToString(CultureInfo.InvariantCulture), Markup.Escape(r.Label ?? "-"),
                r.Value.ToString("F4", CultureInfo.InvariantCulture));
        table.Columns[0].RightAligned();
        table.Columns[1].RightAligned();
        table.Columns[3].RightAligned();
        console.Write(table);
        if (explanation is not null)
            console.MarkupLine($"Grad-CAM of '{Markup.Escape(top[0].Label ?? top[0].Index.ToString(CultureInfo.InvariantCulture))}' written to {Markup.Escape(Path.GetFullPath(explanation))}");
        return 0;
    }

    /// <summary>One class name per line (trailing blank lines ignored); there must be one per class.</summary>
    private static string[] ReadLabels(string path, int numClasses)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"Labels file '{Path.GetFullPath(path)}' does not exist.", path);
        var lines = File.ReadAllLines(path).Select(l => l.Trim()).ToList();
        while (lines.Count > 0 && lines[^1].Length == 0)
            lines.RemoveAt(lines.Count - 1);
        if (lines.Count != numClasses)
            throw new ArgumentException($"--labels: '{Path.GetFullPath(path)}' has {lines.Count} class names; the network has {numClasses} classes.");
        return [.. lines];
    }

    /// <summary>Three comma-separated numbers, or null when the option is absent.</summary>
    private static float[]? ParseTriple(string? text, string option)
    {
        if (text is null)
            return null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
                throw new ArgumentException($"{option} must be three comma-separated numbers (r,g,b); got '{text}'.");
        }
        return values.Length == 3 ? values : throw new ArgumentException($"{option} must be three comma-separated numbers (r,g,b); got '{text}'.");
    }
}
