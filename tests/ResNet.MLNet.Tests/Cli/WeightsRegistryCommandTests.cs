using System.Text.Json;
using ResNet.MLNet.Tests.TestSupport;
using ResNet.MLNet.Tests.Weights.Download;
using ResNet.MLNet.Tests.Weights.Pretrained;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Tests.Cli;

/// <summary>
/// <c>weights list|info|download|verify</c> and registry names in <c>predict</c>, against a temporary torch hub folder
/// (TORCH_HOME) and a mirror on 127.0.0.1: no test touches the real cache or the network.
/// </summary>
public sealed class WeightsRegistryCommandTests : IDisposable
{
    private readonly TempDirectory temp = new();
    private readonly EnvironmentScope environment;
    private readonly string checkpoints;

    public WeightsRegistryCommandTests()
    {
        environment = new EnvironmentScope(
            (WeightsCache.TorchHomeVariable, temp.File("torch-home")),
            (WeightsDownloader.MirrorVariable, null),
            (WeightsDownloader.OfflineVariable, null));
        checkpoints = Path.Combine(temp.File("torch-home"), "hub", "checkpoints");
    }

    public void Dispose()
    {
        environment.Dispose();
        temp.Dispose();
    }

    [Fact]
    public void List_shows_every_entry_and_finds_MLNets_ResNet18_without_network()
    {
        var (code, output, error) = CliRunner.Run("weights", "list", "--json");
        Assert.True(code == 0, error);
        var rows = JsonDocument.Parse(output).RootElement.EnumerateArray().ToList();
        Assert.Equal(WeightsRegistry.All.Count, rows.Count);
        var mlnet = rows.Single(r => r.GetProperty("name").GetString() == "resnet18.mlnet_in1k");
        Assert.EndsWith("ResNet18.onnx", mlnet.GetProperty("available").GetString());
        Assert.Equal(JsonValueKind.Null, rows.Single(r => r.GetProperty("name").GetString() == "resnet50.tv2_in1k").GetProperty("available").ValueKind);

        (code, output, error) = CliRunner.Run("weights", "list");
        Assert.True(code == 0, error);
        Assert.Contains("resnext101_64x4d.tv2_in1k", output);
    }

    [Fact]
    public void Info_resolves_torchvision_names_and_prints_the_whole_entry()
    {
        var (code, output, error) = CliRunner.Run("weights", "info", "ResNet50_Weights.DEFAULT");
        Assert.True(code == 0, error);
        var entry = JsonDocument.Parse(output).RootElement;
        Assert.Equal("resnet50.tv2_in1k", entry.GetProperty("name").GetString());
        Assert.Equal(232, entry.GetProperty("input").GetProperty("resize_size").GetInt32());
        Assert.Equal(1000, entry.GetProperty("class_names").GetArrayLength());

        CliRunner.AssertFails(CliRunner.Run("weights", "info", "resnet50.tv3_in1k"), "resnet50.tv2_in1k");
    }

    [Fact]
    public void A_torchvision_checkpoint_in_torch_hubs_cache_is_used_by_name_with_ImageNet_class_names()
    {
        WeightsSourceTests.PlaceInCache(checkpoints, "resnet18.tv_in1k");

        var (code, output, error) = CliRunner.Run("predict", "--weights", "resnet18.tv_in1k", "--image", PredictFixtures.PathOf("pattern.png"), "--json");

        Assert.True(code == 0, error);
        var result = JsonDocument.Parse(output).RootElement;
        Assert.Equal(1000, result.GetProperty("logits").GetArrayLength());
        foreach (var row in result.GetProperty("top").EnumerateArray())
            Assert.Equal(WeightsRegistry.ImageNetClasses[row.GetProperty("index").GetInt32()], row.GetProperty("label").GetString());

        // These are not torchvision's weights: verify says so, naming the file.
        var (verify, verifyOutput, _) = CliRunner.Run("weights", "verify", "resnet18.tv_in1k");
        Assert.Equal(1, verify);
        Assert.Contains("MISMATCH  resnet18.tv_in1k", verifyOutput);
    }

    [Fact]
    public void Verify_accepts_MLNets_packaged_file_and_names_a_missing_one()
    {
        var (code, output, error) = CliRunner.Run("weights", "verify", "resnet18.mlnet_in1k");
        Assert.True(code == 0, error + output);
        Assert.Contains("ok  resnet18.mlnet_in1k", output);

        CliRunner.AssertFails(CliRunner.Run("weights", "verify", "resnet34.tv_in1k"), Path.Combine(checkpoints, "resnet34-b627a593.pth"));
    }

    [Fact]
    public void A_wrong_file_from_the_mirror_is_refused_and_leaves_nothing()
    {
        using var server = new LoopbackHttpServer();
        server.Serve("resnet34-b627a593.pth", new byte[4096]);
        environment.Set(WeightsDownloader.MirrorVariable, server.BaseUrl);

        var (code, _, error) = CliRunner.Run("weights", "download", "resnet34.tv_in1k");

        Assert.Equal(1, code);
        Assert.Contains("resnet34-b627a593.pth", error);
        Assert.Contains("b627a593", error);
        Assert.Single(server.Requests);
        Assert.False(Directory.Exists(checkpoints) && Directory.EnumerateFileSystemEntries(checkpoints).Any());
    }

    [Fact]
    public void Offline_says_which_file_to_place_where()
    {
        environment.Set(WeightsDownloader.OfflineVariable, "1");

        CliRunner.AssertFails(CliRunner.Run("predict", "--weights", "resnet50.tv2_in1k", "--image", PredictFixtures.PathOf("pattern.png")),
            Path.Combine(checkpoints, "resnet50-11ad3fa6.pth"));
    }
}
