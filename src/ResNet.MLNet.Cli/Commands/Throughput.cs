using System.Diagnostics;
using System.Globalization;

namespace ResNet.MLNet.Cli.Commands;

/// <summary>Timing for the bench commands: one timed pass, and the best and spread of repeated passes.</summary>
internal static class Throughput
{
    /// <summary>Items per second of one run of <paramref name="pass"/>, which handles <paramref name="items"/> items; collects garbage first.</summary>
    public static double Measure(int items, Action pass)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var watch = Stopwatch.StartNew();
        pass();
        return items / watch.Elapsed.TotalSeconds;
    }
}

/// <summary>Repeated throughput measurements of one workload (items per second).</summary>
internal sealed class Measurements
{
    private readonly List<double> runs = [];

    public IReadOnlyList<double> Runs => runs;

    public double Best => runs.Max();

    public double Worst => runs.Min();

    /// <summary>(best - worst) / best: how much the runs disagree.</summary>
    public double Spread => (Best - Worst) / Best;

    public void Add(double itemsPerSecond) => runs.Add(itemsPerSecond);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Best:F1} ({Worst:F1}–{Best:F1})");
}
