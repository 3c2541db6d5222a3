using System.Text.Json;

namespace ResNet.MLNet.Tests.Cli;

public class BenchTrainCommandTests
{
    [Fact]
    public void Json_reports_the_best_of_the_rounds_without_the_peer()
    {
        var (code, output, error) = CliRunner.Run(
            "bench", "train", "--arch", "cifar_resnet20", "--image-size", "32", "--batch-size", "4", "--warmup", "1", "--steps", "2", "--rounds", "2", "--no-peer", "--json");
        Assert.True(code == 0, error);
        var root = JsonDocument.Parse(output).RootElement;
        Assert.Equal("cifar_resnet20", root.GetProperty("arch").GetString());
        Assert.Equal(4, root.GetProperty("batch_size").GetInt32());
        Assert.Equal(32, root.GetProperty("image_size").GetInt32());
        double best = root.GetProperty("toolkit_img_per_s").GetDouble();
        Assert.True(best > 0);
        var runs = root.GetProperty("toolkit_runs").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(2, runs.Length);
        Assert.Equal(runs.Max(), best, tolerance: 0.001);
        Assert.Empty(root.GetProperty("pytorch_runs").EnumerateArray());
        Assert.Contains("round 2: toolkit", error);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("pytorch_img_per_s").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("ratio").ValueKind);
    }

    [Fact]
    public void Cifar_network_has_no_torchvision_peer_and_says_so()
    {
        var (code, output, error) = CliRunner.Run(
            "bench", "train", "--arch", "cifar_resnet8", "--image-size", "16", "--batch-size", "2", "--warmup", "0", "--steps", "1");
        Assert.True(code == 0, error);
        Assert.Contains("ResNet.MLNet (TorchSharp):", output);
        Assert.Contains("PyTorch: not measured", output);
    }

    [Fact]
    public void Profile_names_every_part_and_convolution_kind_as_the_PyTorch_side_does()
    {
        var (code, output, error) = CliRunner.Run(
            "bench", "train", "--arch", "resnet18", "--image-size", "32", "--batch-size", "2", "--steps", "1", "--profile", "--no-peer", "--json");
        Assert.True(code == 0, error);
        var toolkit = JsonDocument.Parse(output).RootElement.GetProperty("toolkit");
        string[] parts = [.. toolkit.GetProperty("parts").EnumerateArray().Select(p => p.GetProperty("part").GetString()!)];
        Assert.Equal(["stem", "layer1", "layer2", "layer3", "layer4", "head + loss"], parts);
        var convs = toolkit.GetProperty("convs").EnumerateArray().ToDictionary(c => c.GetProperty("part").GetString()!, c => c.GetProperty("count").GetInt32());
        // ResNet-18: the 7x7/2 stem, 13 3x3 (stride 1), 3 3x3/2 opening stages 2-4, 3 strided 1x1 projection shortcuts.
        Assert.Equal(new Dictionary<string, int> { ["7x7/2"] = 1, ["3x3"] = 13, ["3x3/2"] = 3, ["1x1/2 shortcut"] = 3 }, convs);
        Assert.All(toolkit.GetProperty("parts").EnumerateArray(), p => Assert.True(p.GetProperty("forward_ms").GetDouble() > 0));
        Assert.True(toolkit.GetProperty("optimizer_ms").GetDouble() > 0);
        Assert.True(toolkit.GetProperty("step_ms").GetDouble() > 0);
    }

    [Fact]
    public void Bad_sizes_fail_with_a_message()
    {
        var (code, _, error) = CliRunner.Run("bench", "train", "--arch", "cifar_resnet20", "--batch-size", "1", "--no-peer");
        Assert.Equal(1, code);
        Assert.Contains("--batch-size must be at least 2", error);
    }
}
