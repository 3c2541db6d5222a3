using System.Text.RegularExpressions;
using System.Xml.Linq;
using ResNet.MLNet.Tests.TestSupport;

namespace ResNet.MLNet.Tests.Docs;

/// <summary>The package names and versions the README gives a user are the ones the solution builds and tests with.</summary>
public class ReadmePackagesTests
{
    private static readonly string Readme = File.ReadAllText(Path.Combine(Repo.Root, "README.md"));

    private static Dictionary<string, string> PinnedVersions() =>
        XDocument.Load(Path.Combine(Repo.Root, "Directory.Packages.props")).Descendants("PackageVersion")
            .ToDictionary(p => (string)p.Attribute("Include")!, p => (string)p.Attribute("Version")!);

    [Fact]
    public void The_plain_scorer_package_list_is_exactly_what_the_plain_scorer_references()
    {
        // The README's `dotnet add package` block for a plain ML.NET service.
        var listed = Regex.Matches(Readme, @"^dotnet add package (\S+) --version (\S+)$", RegexOptions.Multiline)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        var referenced = XDocument.Load(Path.Combine(Repo.Root, "tests", "ResNet.MLNet.PlainScorer", "ResNet.MLNet.PlainScorer.csproj"))
            .Descendants("PackageReference").Select(p => (string)p.Attribute("Include")!).Order().ToList();

        Assert.Equal(referenced, listed.Keys.Order().ToList());
        var pinned = PinnedVersions();
        Assert.All(listed, p => Assert.Equal(pinned[p.Key], p.Value));
    }

    [Fact]
    public void The_stated_versions_are_the_pinned_ones()
    {
        var pinned = PinnedVersions();
        string versions = Readme.Split('\n').Single(l => l.StartsWith("- **Versions**", StringComparison.Ordinal));
        Assert.Contains($"ML.NET {pinned["Microsoft.ML"]}", versions);
        Assert.Contains($"TorchSharp {pinned["TorchSharp"]}", Readme);
        Assert.Contains($"ONNX Runtime {pinned["Microsoft.ML.OnnxRuntime"]}", Readme);
        Assert.Contains($"`Microsoft.ML.DnnImageFeaturizer.ResNet18` {pinned["Microsoft.ML.DnnImageFeaturizer.ResNet18"]}", Readme);
    }
}
