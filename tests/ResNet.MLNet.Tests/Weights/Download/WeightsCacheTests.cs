using System.Text.Json;
using ResNet.MLNet.Tests.TestSupport;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Tests.Weights.Download;

/// <summary>The cache folder is torch hub's: the same rules as <c>torch.hub.get_dir()</c>, checked against torch itself.</summary>
public sealed class WeightsCacheTests
{
    private static readonly string Home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    public static TheoryData<string?, string?, string> Environments => new()
    {
        { "/opt/torch", null, "/opt/torch/hub/checkpoints" },
        { "/opt/torch", "/var/cache", "/opt/torch/hub/checkpoints" },
        { null, "/var/cache", "/var/cache/torch/hub/checkpoints" },
        { null, null, Path.Combine(Home, ".cache", "torch", "hub", "checkpoints") },
        { "~/th", null, Path.Combine(Home, "th", "hub", "checkpoints") },
        { null, "~", Path.Combine(Home, "torch", "hub", "checkpoints") },
        { "", "", Path.Combine(Home, ".cache", "torch", "hub", "checkpoints") }, // empty counts as unset (torch: relative "hub")
    };

    [Theory]
    [MemberData(nameof(Environments))]
    public void Should_follow_torch_home_then_xdg_cache_home_then_the_home_folder(string? torchHome, string? xdgCacheHome, string expected)
    {
        Assert.Equal(expected, WeightsCache.Resolve(Lookup(torchHome, xdgCacheHome)));
    }

    [Fact]
    public void Should_read_the_environment_at_each_call()
    {
        using var temp = new TempDirectory();
        using (new EnvironmentScope((WeightsCache.TorchHomeVariable, temp.Path)))
        {
            Assert.Equal(Path.Combine(temp.Path, "hub", "checkpoints"), WeightsCache.Directory);
            Assert.Equal(Path.Combine(temp.Path, "hub", "checkpoints", "a-1234.pth"), WeightsCache.GetPath("a-1234.pth"));
        }
        Assert.Equal(Path.Combine(temp.Path, "elsewhere", "a.pth"), WeightsCache.GetPath("a.pth", Path.Combine(temp.Path, "elsewhere")));
    }

    [ReferencePythonFact]
    public void Should_match_torch_hub_get_dir()
    {
        (string? TorchHome, string? Xdg)[] cases = [.. Environments.Select(row => ((string?)row[0], (string?)row[1])).Where(c => c.Item1 != "" && c.Item2 != ""), ("relative/th", null)];
        const string script = """
            import json, os, sys, torch.hub
            for torch_home, xdg in json.loads(sys.argv[1]):
                for name, value in (("TORCH_HOME", torch_home), ("XDG_CACHE_HOME", xdg)):
                    if value is None: os.environ.pop(name, None)
                    else: os.environ[name] = value
                print(os.path.join(torch.hub.get_dir(), "checkpoints"))
            """;
        var (code, output, error) = ReferencePython.Run(TimeSpan.FromMinutes(1), "-c", script,
            JsonSerializer.Serialize(cases.Select(c => new[] { c.TorchHome, c.Xdg })));
        Assert.True(code == 0, error);

        string[] torch = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(cases.Length, torch.Length);
        foreach (var ((torchHome, xdg), torchDir) in cases.Zip(torch))
            Assert.Equal(Path.GetFullPath(torchDir), WeightsCache.Resolve(Lookup(torchHome, xdg)));
    }

    private static Func<string, string?> Lookup(string? torchHome, string? xdgCacheHome) => name => name switch
    {
        WeightsCache.TorchHomeVariable => torchHome,
        WeightsCache.XdgCacheHomeVariable => xdgCacheHome,
        _ => throw new ArgumentException($"unexpected variable {name}"),
    };
}
