using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ResNet.MLNet.Tests.TestSupport;
using Xunit.Abstractions;

namespace ResNet.MLNet.Tests.Cli;

/// <summary><c>predict --arch --weights</c>: torchvision's preprocessing and logits, top K, labels, and clean failures.</summary>
public class PredictCommandTests(ITestOutputHelper output)
{
    private static readonly string CifarWeights = Fixtures.Path("weights", "cifar_resnet20.pth");
    private static readonly string Pattern = PredictFixtures.PathOf("pattern.png");

    public static TheoryData<int> CifarCases() => [.. Enumerable.Range(0, PredictFixtures.Json("cifar_resnet20.json").GetArrayLength())];

    [Theory]
    [MemberData(nameof(CifarCases))]
    public void Should_give_torchvisions_logits_for_the_committed_CIFAR_ResNet_20(int index)
    {
        var expected = PredictFixtures.Json("cifar_resnet20.json")[index];
        var (code, stdout, error) = CliRunner.Run("predict", "--arch", "cifar_resnet20", "--weights", CifarWeights,
            "--image", PredictFixtures.PathOf(expected.GetProperty("image").GetString()!),
            "--resize", expected.GetProperty("resize").ToString(), "--crop", expected.GetProperty("crop").ToString(),
            "--mean", Triple(expected.GetProperty("mean")), "--std", Triple(expected.GetProperty("std")), "--json");

        Assert.True(code == 0, error);
        var root = JsonDocument.Parse(stdout).RootElement;
        double worst = AssertClose.Relative(Floats(expected.GetProperty("logits")), Floats(root.GetProperty("logits")), 1e-4);
        output.WriteLine($"{expected.GetProperty("image")}: max relative difference {worst:G3}");
    }

    [Fact]
    public void Json_lists_all_logits_and_the_top_K_with_labels_and_probabilities()
    {
        using var dir = new TempDirectory();
        var classes = Enumerable.Range(0, 10).Select(i => $"class {i}").ToArray();
        File.WriteAllLines(dir.File("labels.txt"), [.. classes, ""]); // a trailing blank line is fine

        var (code, stdout, error) = CliRunner.Run("predict", "--arch", "cifar_resnet20", "--weights", CifarWeights, "--image", Pattern,
            "--top", "3", "--labels", dir.File("labels.txt"), "--json");

        Assert.True(code == 0, error);
        var root = JsonDocument.Parse(stdout).RootElement;
        var logits = Floats(root.GetProperty("logits"));
        Assert.Equal(10, logits.Length);
        var top = root.GetProperty("top").EnumerateArray().ToList();
        Assert.Equal(3, top.Count);
        var order = Enumerable.Range(0, 10).OrderByDescending(i => logits[i]).Take(3).ToList();
        Assert.Equal(order, top.Select(t => t.GetProperty("index").GetInt32()));
        Assert.Equal(order.Select(i => classes[i]), top.Select(t => t.GetProperty("label").GetString()));
        double sum = logits.Sum(l => Math.Exp(l));
        Assert.Equal(Math.Exp(logits[order[0]]) / sum, top[0].GetProperty("probability").GetDouble(), 1e-6);
        Assert.True(top[0].GetProperty("probability").GetDouble() >= top[1].GetProperty("probability").GetDouble());
    }

    [Fact]
    public void Table_shows_rank_index_label_and_probability()
    {
        var (code, stdout, error) = CliRunner.Run("predict", "--arch", "cifar_resnet20", "--weights", CifarWeights, "--image", Pattern, "--top", "2");

        Assert.True(code == 0, error);
        foreach (string text in new[] { "pattern.png", "cifar_resnet20", "rank", "index", "label", "probability" })
            Assert.Contains(text, stdout);
        Assert.Equal(2, stdout.Split('\n').Count(l => l.Contains("0.", StringComparison.Ordinal) && l.Contains('│')));
    }

    [Theory]
    [InlineData("missing-image")]
    [InlineData("corrupt-image")]
    [InlineData("missing-weights")]
    [InlineData("unknown-arch")]
    [InlineData("bad-mean")]
    [InlineData("labels-count")]
    [InlineData("no-weights")]
    [InlineData("model-and-arch")]
    public void Bad_input_fails_with_one_clear_message_and_exit_code_1(string problem)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("corrupt.png"), "this is not a PNG");
        File.WriteAllLines(dir.File("labels.txt"), ["only", "three", "names"]);
        string[] args = problem switch
        {
            "missing-image" => ["--arch", "cifar_resnet20", "--weights", CifarWeights, "--image", dir.File("missing.png")],
            "corrupt-image" => ["--arch", "cifar_resnet20", "--weights", CifarWeights, "--image", dir.File("corrupt.png")],
            "missing-weights" => ["--arch", "cifar_resnet20", "--weights", dir.File("missing.pth"), "--image", Pattern],
            "unknown-arch" => ["--arch", "resnet19", "--weights", CifarWeights, "--image", Pattern],
            "bad-mean" => ["--arch", "cifar_resnet20", "--weights", CifarWeights, "--image", Pattern, "--mean", "0.5,0.5"],
            "labels-count" => ["--arch", "cifar_resnet20", "--weights", CifarWeights, "--image", Pattern, "--labels", dir.File("labels.txt")],
            "no-weights" => ["--arch", "cifar_resnet20", "--image", Pattern],
            _ => ["--arch", "cifar_resnet20", "--model", dir.File("model.zip"), "--image", Pattern],
        };
        string expected = problem switch
        {
            "missing-image" => "missing.png",
            "corrupt-image" => "corrupt.png",
            "missing-weights" => "missing.pth",
            "unknown-arch" => "resnet19",
            "bad-mean" => "--mean",
            "labels-count" => "3 class names; the network has 10 classes",
            "no-weights" => "--weights",
            _ => "--arch",
        };

        CliRunner.AssertFails(CliRunner.Run(["predict", .. args]), expected);
    }

    [Fact]
    public void Weights_that_do_not_fit_the_architecture_fail_with_the_loading_report()
    {
        var (code, _, error) = CliRunner.Run("predict", "--arch", "cifar_resnet32", "--weights", CifarWeights, "--image", Pattern);

        Assert.Equal(1, code);
        Assert.Contains("do not fit cifar_resnet32", error);
        Assert.Contains("missing: layer1.3.conv1.weight", error);
    }

    /// <summary>The issue's bar: a checkpoint torchvision writes gives torchvision's logits through predict (1e-4 relative).</summary>
    [ReferencePythonFact]
    public void Should_give_torchvisions_logits_for_a_torchvision_resnet50_checkpoint()
    {
        using var dir = new TempDirectory();
        var watch = Stopwatch.StartNew();
        var (exit, stdout, stderr) = ReferencePython.Run(TimeSpan.FromMinutes(5), PredictFixtures.PathOf("make_predict_fixtures.py"), "--resnet50", dir.Path);
        Assert.True(exit == 0, $"make_predict_fixtures.py --resnet50 failed:\n{stdout}\n{stderr}");
        output.WriteLine($"{stdout.Trim()} (python: {watch.Elapsed.TotalSeconds:F1} s)");
        var expected = JsonDocument.Parse(File.ReadAllText(dir.File("resnet50.json"))).RootElement;

        watch.Restart();
        var (code, json, error) = CliRunner.Run("predict", "--arch", "resnet50", "--weights", dir.File("resnet50.pth"), "--image", Pattern, "--json");

        Assert.True(code == 0, error);
        var actual = JsonDocument.Parse(json).RootElement;
        double worst = AssertClose.Relative(Floats(expected.GetProperty("logits")), Floats(actual.GetProperty("logits")), 1e-4);
        output.WriteLine($"resnet50 (predict: {watch.Elapsed.TotalSeconds:F1} s): max relative difference {worst:G3}, " +
                         $"top-1 {actual.GetProperty("top")[0].GetProperty("index").GetInt32()}");
    }

    internal static float[] Floats(JsonElement array) => array.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    private static string Triple(JsonElement array) =>
        string.Join(",", array.EnumerateArray().Select(v => v.GetDouble().ToString("R", CultureInfo.InvariantCulture)));
}
