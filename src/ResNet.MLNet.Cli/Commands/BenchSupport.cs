using System.Diagnostics;
using System.Globalization;
using ResNet.MLNet.Training;

namespace ResNet.MLNet.Cli.Commands;

/// <summary>What the training benchmarks share: the machine's load, and step times taken from the trainer's progress reports.</summary>
internal static class BenchSupport
{
    /// <summary>The 1, 5 and 15 minute load averages (Linux), or null elsewhere.</summary>
    public static double[]? LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ').Take(3).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>This process's peak resident memory in MB (VmHWM, Linux), or null elsewhere.</summary>
    public static double? PeakResidentMegabytes()
    {
        try
        {
            string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? null : double.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>The Python interpreter of Debian's python3-torch (see README, "Tests and fixtures").</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>Runs a committed peer script from Bench/ under <see cref="Python"/>; its last output line as JSON, or null and why not.</summary>
    public static (System.Text.Json.JsonElement? Result, string Note) RunPython(string scriptName, IEnumerable<string> arguments)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "Bench", scriptName);
        if (!File.Exists(Python))
            return (null, $"not measured: {Python} is absent");
        if (!File.Exists(script))
            return (null, $"not measured: {script} is missing");
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new IOException($"Could not start {Python}.");
        var errorTask = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        string stderr = errorTask.Result;
        if (process.ExitCode != 0)
        {
            string reason = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? $"exit code {process.ExitCode}";
            return (null, $"not measured: {reason}");
        }
        return (System.Text.Json.JsonDocument.Parse(stdout.Trim().Split('\n').Last()).RootElement, "");
    }

    public static string FormatLoad(double[]? load) => load is null ? "n/a" : string.Join(" ", load.Select(v => v.ToString("F2", CultureInfo.InvariantCulture)));
}

/// <summary>
/// Receives the trainer's reports synchronously on the training thread (unlike <see cref="Progress{T}"/>, which posts them):
/// the time of every completed step and the metrics of every completed epoch.
/// </summary>
internal sealed class StepClock(Action<TrainingProgress>? onEpoch = null, Action<TrainingProgress>? onStep = null) : IProgress<TrainingProgress>
{
    private readonly Stopwatch clock = Stopwatch.StartNew();

    /// <summary>Seconds since construction at the end of each step, in order.</summary>
    public List<double> StepEnds { get; } = [];

    public void Report(TrainingProgress value)
    {
        if (value.Event == TrainingEvent.StepCompleted)
        {
            StepEnds.Add(clock.Elapsed.TotalSeconds);
            onStep?.Invoke(value);
        }
        else if (value.Event == TrainingEvent.EpochCompleted)
            onEpoch?.Invoke(value);
    }
}
