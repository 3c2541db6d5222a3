using ResNet.MLNet.Tests.TestSupport;
using Xunit.Abstractions;

namespace ResNet.MLNet.Tests.Hardening;

/// <summary>
/// Every case of <see cref="HostileCorpus"/> through the real CLI in its own process: the exit code, a one-line error
/// naming the file, no stack trace, seconds of wall time, and a peak resident memory under 1 GB — what the hardening
/// issue's "done when" asks of each. Cases run two at a time, within a budget for the whole corpus.
/// </summary>
public class HostileCorpusTests(ITestOutputHelper output)
{
    private const long MemoryBound = 1L << 30;
    private static readonly TimeSpan PerCase = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Budget = TimeSpan.FromMinutes(4);

    [Fact]
    public void Every_hostile_input_fails_in_one_named_line_within_bounded_time_and_memory()
    {
        using var dir = new TempDirectory();
        var cases = HostileCorpus.Write(dir.Path, randomCases: 12, seed: 1);
        string cli = Path.Combine(AppContext.BaseDirectory, "resnet-mlnet.dll");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var results = new ChildProcess.Result[cases.Count];
        Parallel.For(0, cases.Count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
            results[i] = ChildProcess.Run("dotnet", [cli, .. cases[i].Arguments], PerCase, dir.Path,
                new Dictionary<string, string?> { ["NO_COLOR"] = "1", ["RESNET_MLNET_OFFLINE"] = "1" }));

        var failures = new List<string>();
        for (int i = 0; i < cases.Count; i++)
        {
            var (c, r) = (cases[i], results[i]);
            string[] lines = r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            double peakMb = (r.PeakMemoryBytes ?? 0) / 1048576.0;
            output.WriteLine($"{c.Name}: exit {r.ExitCode}, {r.Elapsed.TotalSeconds:F1} s, peak {peakMb:F0} MB: {(lines.Length > 0 ? lines[^1] : "(no error)")}");
            if (!c.ExitCodes.Contains(r.ExitCode))
                failures.Add($"{c.Name}: exit {r.ExitCode}, expected {string.Join(" or ", c.ExitCodes)}: {r.Error}");
            if (r.ExitCode == 1)
            {
                var errors = lines.Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToList();
                if (errors.Count != 1)
                    failures.Add($"{c.Name}: expected one 'error:' line, got: {r.Error}");
                else if (c.Names is { } named && !errors[0].Contains(named, StringComparison.Ordinal))
                    failures.Add($"{c.Name}: the error does not name '{named}': {errors[0]}");
                if (r.Error.Contains("   at ", StringComparison.Ordinal) || r.Error.Contains("(Parameter '", StringComparison.Ordinal))
                    failures.Add($"{c.Name}: stack trace or .NET suffix in: {r.Error}");
            }
            if (r.PeakMemoryBytes > MemoryBound)
                failures.Add($"{c.Name}: peak memory {peakMb:F0} MB");
        }
        output.WriteLine($"{cases.Count} cases in {clock.Elapsed.TotalSeconds:F0} s");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(clock.Elapsed < Budget, $"the corpus took {clock.Elapsed.TotalSeconds:F0} s");
        if (OperatingSystem.IsLinux())
        {
            // The bound was really measured; a child that ends within milliseconds may be gone before its first sample.
            int measured = results.Count(r => r.PeakMemoryBytes is not null);
            Assert.True(measured * 2 >= results.Length, $"peak memory was read for only {measured} of {results.Length} cases");
        }
    }
}
