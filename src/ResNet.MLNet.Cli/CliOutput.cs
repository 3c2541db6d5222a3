using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace ResNet.MLNet.Cli;

/// <summary>Presentation helpers shared by the commands: Spectre.Console on the invocation's writer, JSON, errors.</summary>
internal static class CliOutput
{
    /// <summary>JSON as the commands print it: snake_case names, indented.</summary>
    public static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    /// <summary>A Spectre console writing to the invocation's output (so tests can capture it).</summary>
    public static IAnsiConsole Console(ParseResult parse) => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(parse.InvocationConfiguration.Output),
        Interactive = InteractionSupport.No,
    });

    /// <summary>Writes an expected failure (bad argument, bad file) to stderr without a stack trace; returns exit code 1.</summary>
    public static int Fail(ParseResult parse, string message)
    {
        parse.InvocationConfiguration.Error.WriteLine($"error: {message}");
        return 1;
    }

    /// <summary>Runs a command body, turning the toolkit's expected exceptions into <see cref="Fail"/>.</summary>
    public static int Guard(ParseResult parse, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (IsExpected(e))
        {
            return Fail(parse, e.Message);
        }
    }

    /// <summary>
    /// Failures a user can fix, reported as one message without a stack trace: bad arguments, missing or malformed
    /// files, weights that do not fit, hostile pickles.
    /// </summary>
    public static bool IsExpected(Exception e) =>
        e is ArgumentException or InvalidDataException or IOException or UnauthorizedAccessException
            or Weights.WeightsMismatchException or Weights.UnsafePickleException;
}
