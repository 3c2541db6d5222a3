using System.CommandLine;
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
        root.Subcommands.Add(FeaturizeCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        var config = new InvocationConfiguration { Output = output ?? Console.Out, Error = error ?? Console.Error };
        return root.Parse(args).Invoke(config);
    }
}
