using System.CommandLine;

namespace ResNet.MLNet.Cli.Commands;

/// <summary><c>resnet-mlnet bench</c>: throughput measurements on this machine, one subcommand per workload.</summary>
internal static class BenchCommand
{
    public static Command Create() => new("bench", "Measure throughput on this machine.")
    {
        BenchFeaturizeCommand.Create(),
        BenchTrainCommand.Create(),
        BenchFashionMnistCommand.Create(),
        BenchPretrainedCommand.Create(),
        BenchSoakCommand.Create(),
        BenchServeCommand.Create(),
        BenchImagesCommand.Create(),
        BenchLoaderCommand.Create(),
        BenchStreamCommand.Create(),
    };
}
