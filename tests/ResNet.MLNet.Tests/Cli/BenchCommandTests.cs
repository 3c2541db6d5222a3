using System.Text.Json;

namespace ResNet.MLNet.Tests.Cli;

/// <summary><c>bench featurize</c> on a tiny network: the JSON contract, the table, and bad input. (Speed itself is in BENCHMARKS.md.)</summary>
public class BenchCommandTests
{
    [Fact]
    public void Json_reports_the_three_throughputs_and_their_ratio()
    {
        var (code, output, error) = CliRunner.Run("bench", "featurize", "--arch", "cifar_resnet20", "--images", "8", "--batch-size", "4", "--rounds", "2", "--json");

        Assert.True(code == 0, error);
        var root = JsonDocument.Parse(output).RootElement;
        double toolkit = root.GetProperty("toolkit_img_per_s").GetDouble();
        double files = root.GetProperty("toolkit_files_img_per_s").GetDouble();
        double raw = root.GetProperty("onnxruntime_img_per_s").GetDouble();
        Assert.All(new[] { toolkit, files, raw }, v => Assert.True(v > 0));
        Assert.InRange(root.GetProperty("ratio").GetDouble() - toolkit / raw, -0.002, 0.002); // ratio of the unrounded bests, to 3 decimals
        Assert.Equal(2, root.GetProperty("toolkit_runs").GetArrayLength());
        Assert.Equal(toolkit, root.GetProperty("toolkit_runs").EnumerateArray().Max(v => v.GetDouble()));
        Assert.Equal(32, root.GetProperty("image_size").GetInt32()); // the CIFAR default
        Assert.Equal(Environment.ProcessorCount, root.GetProperty("intra_op_threads").GetInt32());
        Assert.Contains("round 2:", error); // per-round figures go to stderr
    }

    [Fact]
    public void Table_lists_the_workloads_and_the_ratios()
    {
        var (code, output, error) = CliRunner.Run("bench", "featurize", "--arch", "cifar_resnet20", "--images", "4", "--batch-size", "4", "--rounds", "1");

        Assert.True(code == 0, error);
        foreach (string text in new[] { "(a) featurizer, images in memory", "(b) featurizer, image files", "(c) ONNX Runtime float32, ready tensors", "ratio a/c =", "b/c =" })
            Assert.Contains(text, output);
    }

    [Theory]
    [InlineData("--arch", "resnet19", "Unknown architecture 'resnet19'")]
    [InlineData("--images", "0", "--images")]
    [InlineData("--batch-size", "0", "--batch-size")]
    public void Bad_input_fails_with_one_clear_message(string option, string value, string expected)
    {
        string[] args = option == "--arch" ? ["bench", "featurize", option, value] : ["bench", "featurize", "--arch", "cifar_resnet20", option, value];

        CliRunner.AssertFails(CliRunner.Run(args), expected);
    }

    [Fact]
    public void Bench_without_a_workload_fails()
    {
        var (code, _, error) = CliRunner.Run("bench");
        Assert.NotEqual(0, code);
        Assert.Contains("featurize", error + CliRunner.Run("bench", "--help").Output);
    }
}
