using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using ResNet.MLNet.Cli.Commands;

namespace ResNet.MLNet.Cli;

/// <summary>The resnet-mlnet command line: wiring of the commands only.</summary>
public static class CliApp
{
    /// <summary>Parses and runs; returns the process exit code.</summary>
    public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        var root = new RootCommand("ResNet transfer learning for ML.NET: model zoo, pretrained weights, featurization and fine-tuning.");
        root.Subcommands.Add(SummaryCommand.Create());
        root.Subcommands.Add(WeightsCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(ConvertCommand.Create());
        root.Subcommands.Add(ExportOnnxCommand.Create());
        root.Subcommands.Add(FinetuneCommand.Create());
        root.Subcommands.Add(EvaluateCommand.Create());
        root.Subcommands.Add(PredictCommand.Create());
        root.Subcommands.Add(InterpretCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(LrFindCommand.Create());
        root.Subcommands.Add(FeaturizeCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        var config = new InvocationConfiguration { Output = output ?? Console.Out, Error = error ?? Console.Error };
        var parse = root.Parse(args);
        return parse.Action is ParseErrorAction ? UsageError(parse, config.Error) : parse.Invoke(config);
    }

    /// <summary>A command line that does not parse: its first error on one line, where to look, exit code 2.</summary>
    private static int UsageError(ParseResult parse, TextWriter error)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result.Parent is CommandResult parent; result = parent)
            names.Insert(0, result.Command.Name);
        string command = string.Join(" ", ["resnet-mlnet", .. names]);
        string more = parse.Errors.Count > 1 ? $" ({parse.Errors.Count - 1} more)" : "";
        // System.CommandLine lists allowed values on lines of their own; on one line they read as a list.
        string message = string.Join(' ', parse.Errors[0].Message.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries).Select(part => part.Trim()));
        error.WriteLine($"error: {command}: {Weights.PrintableName.Escape(message, keepNewlines: false)}{more} Run '{command} --help' for the options.");
        return CliOutput.Usage;
    }
}
