using System.Text.Json;

namespace ResNet.MLNet.Tests.Cli;

public class BenchSoakCommandTests
{
    [Fact]
    public void A_small_soak_reads_or_refuses_every_hostile_file_naming_it()
    {
        var (code, output, error) = CliRunner.Run("bench", "soak", "--cases", "150", "--seed", "7", "--json");

        Assert.True(code == 0, error + output);
        var report = JsonDocument.Parse(output).RootElement;
        Assert.Equal(0, report.GetProperty("findings").GetArrayLength());
        var outcomes = report.GetProperty("outcomes").EnumerateObject().ToList();
        Assert.Equal(150, outcomes.Sum(o => o.Value.GetInt32()));
        Assert.All(outcomes, o => Assert.Matches(": (read|refused)$", o.Name));
        Assert.Contains(outcomes, o => o.Name.EndsWith("refused", StringComparison.Ordinal));
    }
}
