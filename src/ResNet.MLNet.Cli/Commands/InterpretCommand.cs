using ResNet.MLNet.Applications;
using System.CommandLine;
using System.Globalization;
using ResNet.MLNet.Data;
using ResNet.MLNet.Explain;
using ResNet.MLNet.Pictures;
using ResNet.MLNet.Weights;
using Spectre.Console;

namespace ResNet.MLNet.Cli.Commands;

/// <summary>
/// <c>resnet-mlnet interpret</c>: fastai's classification interpretation as files — the worst images with their
/// Grad-CAM, the confusion matrix, and the most confused pairs of classes.
/// </summary>
internal static class InterpretCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A finetune output folder (or its model.zip): its weights.safetensors is the network interpreted.", Required = true };
        var data = new Option<string>("--data") { Description = "Image folder: its test/ (or val/, valid/, validation/) split when present, else its class folders.", Required = true };
        var top = new Option<int>("--top") { Description = "How many of the highest-loss images to show.", DefaultValueFactory = _ => 16 };
        var output = new Option<string>("--out") { Description = "Folder for top-losses.png, confusion-matrix.png and most-confused.txt.", Required = true };
        var tta = new Option<bool>("--tta") { Description = "Test-time augmentation: average over the ten-crop views (centre, corners, mirrored) instead of the centre crop." };
        var maxPixels = ImageLimitOption.Create();
        var command = new Command("interpret", "Show where a fine-tuned network goes wrong: top-losses.png (with Grad-CAM), confusion-matrix.png, most-confused.txt.")
        {
            model, data, top, output, tta, maxPixels,
        };
        command.SetAction(parse => CliOutput.Guard(parse, () =>
        {
            int k = parse.GetValue(top);
            if (k < 1)
                return CliOutput.Fail(parse, $"--top must be at least 1; got {k}.");
            string weights = ZooModels.RunWeights(parse.GetValue(model)!);
            if (!File.Exists(weights))
                return CliOutput.Fail(parse, $"interpret reads the network from the run's weights.safetensors: '{weights}' does not exist. Give a folder written by finetune (or its model.zip).");
            var limits = ImageLimitOption.Limits(parse, maxPixels);
            var rows = ImageFolderFineTuning.EvaluationRows(parse.GetValue(data)!);
            var setup = ZooModels.Build(null, weights, numClasses: null, WeightsLoadOptions.Exact, parse.InvocationConfiguration.Error);
            using var network = setup.Model;
            var interpretation = ClassificationInterpretation.Create(network, setup.Input, rows, limits, testTimeAugmentation: parse.GetValue(tta));

            string outDir = Path.GetFullPath(parse.GetValue(output)!);
            Directory.CreateDirectory(outDir);
            var worst = interpretation.TopLosses(k);
            var tiles = worst.Select(image =>
                (GradCam.Explain(network, ImageTensor.Load(image.ImagePath, limits), setup.Input, ZooModels.ClassIndex(setup.Input, image.Predicted)).Overlay, image)).ToList();
            if (tiles.Count > 0)
                File.WriteAllBytes(Path.Combine(outDir, "top-losses.png"), ImageGrid.TopLosses(tiles, columns: 4, cellWidth: 200).ToPng());
            File.WriteAllBytes(Path.Combine(outDir, "confusion-matrix.png"), ConfusionMatrixPicture.Of(interpretation.Classes, interpretation.ConfusionMatrix,
                $"{network.Options.Name}: confusion matrix (accuracy {interpretation.Accuracy:P1}, {interpretation.Images.Count} images)").ToPng());
            var confused = interpretation.MostConfused();
            File.WriteAllLines(Path.Combine(outDir, "most-confused.txt"),
                ["actual\tpredicted\timages", .. confused.Select(c => $"{c.Actual}\t{c.Predicted}\t{c.Count.ToString(CultureInfo.InvariantCulture)}")]);

            var console = CliOutput.Console(parse);
            console.MarkupLine($"{interpretation.Images.Count} images, accuracy {interpretation.Accuracy:P1}, log-loss {interpretation.MeanLoss:F3}{(parse.GetValue(tta) ? " with test-time augmentation" : "")}; most confused:");
            foreach (var c in confused.Take(5))
                console.MarkupLine($"  {Markup.Escape(c.Actual)} -> {Markup.Escape(c.Predicted)}: {c.Count}");
            console.MarkupLine($"Wrote top-losses.png ({worst.Count} images), confusion-matrix.png, most-confused.txt to {Markup.Escape(outDir)}");
            return 0;
        }));
        return command;
    }
}
