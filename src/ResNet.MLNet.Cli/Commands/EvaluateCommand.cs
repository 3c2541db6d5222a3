using ResNet.MLNet.Applications;
using System.CommandLine;
using System.Text.Json;
using Microsoft.ML;

namespace ResNet.MLNet.Cli.Commands;

/// <summary><c>resnet-mlnet evaluate</c>: metrics of a saved model.zip on an image folder (plain ML.NET scoring).</summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "model.zip written by 'finetune'.", Required = true };
        var data = new Option<string>("--data") { Description = "Image folder: its test/ (or val/, valid/, validation/) split when present, else its class folders.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the metrics as JSON." };
        var maxPixels = ImageLimitOption.Create();
        var command = new Command("evaluate", "Evaluate a saved model on an image folder: accuracy, macro accuracy, log-loss, per class, confusion matrix.") { model, data, json, maxPixels };
        command.SetAction(parse => CliOutput.Guard(parse, () =>
        {
            string path = parse.GetValue(model)!;
            if (!File.Exists(path))
                return CliOutput.Fail(parse, $"Model file '{Path.GetFullPath(path)}' does not exist.");
            var metrics = ImageFolderFineTuning.Evaluate(new MLContext(seed: 0), path, parse.GetValue(data)!, ImageLimitOption.Limits(parse, maxPixels));
            if (parse.GetValue(json))
            {
                parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(metrics, ImageFolderFineTuning.Json));
                return 0;
            }
            MetricsView.Write(CliOutput.Console(parse), metrics);
            return 0;
        }));
        return command;
    }
}
