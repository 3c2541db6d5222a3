using System.CommandLine;
using System.Text.Json;
using ResNet.MLNet.Models;
using Spectre.Console;

namespace ResNet.MLNet.Cli.Commands;

/// <summary><c>resnet-mlnet summary</c>: per-stage output shapes, parameters and MACs of a zoo architecture.</summary>
internal static class SummaryCommand
{
    public static Command Create()
    {
        var arch = new Option<string>("--arch") { Description = "Architecture name (see --list)." };
        var inputSize = new Option<int>("--input-size") { Description = "Side of the square input image.", DefaultValueFactory = _ => 224 };
        var numClasses = new Option<int>("--num-classes") { Description = "Classes of the head (default: 1000, or 10 for CIFAR nets)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table." };
        var list = new Option<bool>("--list") { Description = "List every architecture name." };
        var command = new Command("summary", "Size and cost report: per-stage output shape, parameters and multiply-accumulates.")
        {
            arch, inputSize, numClasses, json, list,
        };
        command.SetAction(parse => CliOutput.Guard(parse, () =>
        {
            var console = CliOutput.Console(parse);
            if (parse.GetValue(list))
            {
                foreach (string name in ResNetModels.Names)
                    console.WriteLine(name);
                console.WriteLine("cifar_resnetN, cifar_plainN (any depth N = 6n+2)");
                return 0;
            }
            string? name0 = parse.GetValue(arch);
            if (string.IsNullOrWhiteSpace(name0))
                return CliOutput.Fail(parse, "--arch is required (or --list to see the architectures).");
            var options = ResNetModels.Options(name0);
            if (parse.GetResult(numClasses) is not null)
                options = options with { NumClasses = parse.GetValue(numClasses) };
            using var model = new ResNetModel(options);
            var summary = ModelSummary.Of(model, parse.GetValue(inputSize));
            if (parse.GetValue(json))
            {
                parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(new
                {
                    arch = summary.Architecture,
                    input_size = summary.InputSize,
                    parameters = summary.Parameters,
                    macs = summary.Macs,
                    gmacs = Math.Round(summary.Macs / 1e9, 3),
                    stages = summary.Stages.Select(s => new { name = s.Name, output_shape = s.OutputShape, parameters = s.Parameters, macs = s.Macs }),
                }, CliOutput.Json));
                return 0;
            }
            var table = new Table().Title($"{summary.Architecture} at {summary.InputSize}x{summary.InputSize}");
            table.AddColumns("stage", "output shape", "parameters", "MACs");
            foreach (var s in summary.Stages)
                table.AddRow(s.Name, string.Join(" x ", s.OutputShape), $"{s.Parameters:N0}", $"{s.Macs:N0}");
            table.AddRow("[bold]total[/]", "", $"[bold]{summary.Parameters:N0}[/]", $"[bold]{summary.Macs:N0}[/]");
            foreach (var column in table.Columns.Skip(2))
                column.RightAligned();
            console.Write(table);
            console.WriteLine($"{summary.Parameters / 1e6:F2}M parameters, {summary.Macs / 1e9:F3} GMACs per image");
            return 0;
        }));
        return command;
    }
}
