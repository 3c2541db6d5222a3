using System.Diagnostics;

namespace ResNet.MLNet.Tests.TestSupport;

/// <summary>Runs a program to completion, capturing its output; it is killed (with its children) after the timeout.</summary>
internal static class ChildProcess
{
    public sealed record Result(int ExitCode, string Output, string Error, TimeSpan Elapsed);

    public static Result Run(string program, IEnumerable<string> arguments, TimeSpan timeout,
        string? workingDirectory = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
            start.Environment[name] = value;
        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return new Result(-1, output.Result, error.Result + $"\n(killed after {timeout.TotalSeconds:F0} s)", stopwatch.Elapsed);
        }
        process.WaitForExit(); // drains the redirected streams
        return new Result(process.ExitCode, output.Result, error.Result, stopwatch.Elapsed);
    }
}
