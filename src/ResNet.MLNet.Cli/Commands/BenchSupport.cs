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
