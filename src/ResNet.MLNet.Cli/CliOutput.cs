using ResNet.MLNet.Applications;
using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ResNet.MLNet.Cli;

/// <summary>Presentation helpers shared by the commands: Spectre.Console on the invocation's writer, JSON, errors.</summary>
internal static class CliOutput
{
    /// <summary>JSON as the commands print it: snake_case names, indented.</summary>
    public static JsonSerializerOptions Json => ImageFolderFineTuning.Json;

    /// <summary>
    /// A Spectre console writing to the invocation's output (so tests can capture it). It is interactive — live progress
    /// bars — only when that output is the process's stdout on a terminal; elsewhere progress prints plain milestone lines.
    /// </summary>
    public static IAnsiConsole Console(ParseResult parse)
    {
        bool terminal = IsTerminal(parse);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(parse.InvocationConfiguration.Output),
            Interactive = terminal ? InteractionSupport.Yes : InteractionSupport.No,
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
        });
        if (!terminal)
            console.Profile.Width = UnwrappedWidth; // a log keeps each line (and each path) whole
        return console;
    }

    private const int UnwrappedWidth = 100_000;

    /// <summary>Whether the invocation writes to the process's stdout on a terminal (not redirected, not captured).</summary>
    public static bool IsTerminal(ParseResult parse) =>
        ReferenceEquals(parse.InvocationConfiguration.Output, System.Console.Out) && !System.Console.IsOutputRedirected;

    /// <summary>
    /// Runs <paramref name="work"/>, which calls the action it is given once per item done: a live Spectre progress bar
    /// (items done / total, percentage, time left) on a terminal; elsewhere (logs, CI, tests) one plain line at every tenth.
    /// </summary>
    public static void WithProgress(ParseResult parse, string description, int total, Action<Action> work)
    {
        var console = Console(parse);
        if (IsTerminal(parse))
        {
            console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new CountColumn(), new PercentageColumn(), new RateColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    var task = context.AddTask(Markup.Escape(description), maxValue: total);
                    work(() => task.Increment(1));
                });
            return;
        }
        int done = 0, reported = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        work(() =>
        {
            done++;
            if (done * 10L / Math.Max(total, 1) > reported || done == total)
            {
                reported = (int)(done * 10L / Math.Max(total, 1));
                double rate = done / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
                var left = TimeSpan.FromSeconds(Math.Round((total - done) / rate));
                console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{description}: {done}/{total} ({100.0 * done / Math.Max(total, 1):F0}%), {rate:F1}/s, ETA {left:h\\:mm\\:ss}"));
            }
        });
    }

    /// <summary>Items per second.</summary>
    private sealed class RateColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(task.Speed is double speed ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{speed:F1}/s") : "");
    }

    /// <summary>Items done out of the total, e.g. "120/500".</summary>
    private sealed class CountColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text($"{task.Value:0}/{task.MaxValue:0}");
    }

    /// <summary>
    /// Writes an expected failure (bad argument, bad file) to stderr without a stack trace; returns <see cref="BadInput"/>. Control
    /// characters (from names in files) are escaped; the lines of a list of files are kept.
    /// </summary>
    public static int Fail(ParseResult parse, string message)
    {
        parse.InvocationConfiguration.Error.WriteLine($"error: {Weights.PrintableName.Escape(message, keepNewlines: true)}");
        return BadInput;
    }

    /// <summary>Exit code of bad input: a missing or malformed file, a value out of range.</summary>
    public const int BadInput = 1;

    /// <summary>Exit code of a command line that does not parse: an unknown or missing option.</summary>
    public const int Usage = 2;

    /// <summary>Exit code of an interrupted command (128 + SIGINT).</summary>
    public const int Interrupted = 130;

    /// <summary>
    /// Runs a command body so that nothing leaves it as a stack trace: the toolkit's expected exceptions become one
    /// <see cref="Fail"/> line (exit 1), cancellation exit 130, and anything else one line that says it is a bug (exit 1;
    /// the stack trace follows when the environment variable RESNET_MLNET_TRACE is 1).
    /// </summary>
    public static int Guard(ParseResult parse, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (IsExpected(Unwrap(e)))
        {
            return Fail(parse, MessageOf(e));
        }
        catch (Exception e) when (Unwrap(e) is OperationCanceledException)
        {
            parse.InvocationConfiguration.Error.WriteLine("error: interrupted.");
            return Interrupted;
        }
        catch (Exception e) when (Unwrap(e) is OutOfMemoryException)
        {
            return Fail(parse, $"out of memory: {MessageOf(e)} Use smaller inputs or batches, or more memory.");
        }
        catch (Exception e)
        {
            var inner = Unwrap(e);
            Fail(parse, $"unexpected {inner.GetType().Name}: {MessageOf(e)} This is a bug in resnet-mlnet: please report it " +
                "with the command line (RESNET_MLNET_TRACE=1 prints the stack trace).");
            if (Environment.GetEnvironmentVariable("RESNET_MLNET_TRACE") == "1")
                parse.InvocationConfiguration.Error.WriteLine(e.ToString());
            return BadInput;
        }
    }

    /// <summary>
    /// The message to print for an exception: that of the single exception inside aggregate and reflection wrappers,
    /// without .NET's suffixes for developers (" (Parameter 'name')", "Actual value was ...").
    /// </summary>
    public static string MessageOf(Exception e) => UserMessages.Of(Unwrap(e));

    private static Exception Unwrap(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } or System.Reflection.TargetInvocationException && e.InnerException is not null)
            e = e.InnerException;
        return e;
    }

    /// <summary>
    /// Failures a user can fix, reported as one message without a stack trace: bad arguments, missing or malformed
    /// files, weights that do not fit, hostile pickles.
    /// </summary>
    public static bool IsExpected(Exception e) =>
        e is ArgumentException or InvalidDataException or IOException or UnauthorizedAccessException
            or Weights.WeightsMismatchException or Weights.UnsafePickleException;
}
