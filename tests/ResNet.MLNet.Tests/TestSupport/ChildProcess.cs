using System.Diagnostics;

namespace ResNet.MLNet.Tests.TestSupport;

/// <summary>Runs a program to completion, capturing its output; it is killed (with its children) after the timeout.</summary>
internal static class ChildProcess
{
    /// <param name="PeakMemoryBytes">
    /// The process's peak resident memory (Linux's VmHWM, read from /proc while it runs and kept at its last value);
    /// null where /proc is not available.
    /// </param>
    public sealed record Result(int ExitCode, string Output, string Error, TimeSpan Elapsed, long? PeakMemoryBytes = null);

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
        // A thread of its own: a pool task can start only after a short child has exited when tests run in parallel.
        var peak = Task.Factory.StartNew(() => WatchPeakMemory(process.Id, process), TaskCreationOptions.LongRunning);
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return new Result(-1, output.Result, error.Result + $"\n(killed after {timeout.TotalSeconds:F0} s)", stopwatch.Elapsed, peak.Result);
        }
        process.WaitForExit(); // drains the redirected streams
        return new Result(process.ExitCode, output.Result, error.Result, stopwatch.Elapsed, peak.Result);
    }

    /// <summary>Polls VmHWM (a high-water mark, so no peak is missed between polls) until the process exits.</summary>
    private static long? WatchPeakMemory(int pid, Process process)
    {
        string status = $"/proc/{pid}/status";
        long? peak = null;
        while (!process.HasExited)
        {
            try
            {
                foreach (string line in File.ReadLines(status))
                {
                    if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                        peak = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024; // kB
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (!File.Exists(status))
                    break; // the process is gone (or /proc is not Linux's)
            }
            Thread.Sleep(2);
        }
        return peak;
    }
}
