using System.CommandLine;

namespace ResNet.MLNet.Cli.Commands;

/// <summary>Runs a command's action, turning expected failures into a one-line message on stderr and exit code 1.</summary>
internal static class CommandErrors
{
    /// <summary>Runs <paramref name="action"/> with the invocation's output writer; expected failures print to its error writer.</summary>
    public static int Run(ParseResult parseResult, Func<TextWriter, int> action) =>
        CliOutput.Guard(parseResult, () => action(parseResult.InvocationConfiguration.Output));
}
