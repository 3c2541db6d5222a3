using ResNet.MLNet.Tests.TestSupport;
using Xunit.Abstractions;

namespace ResNet.MLNet.Tests.Notebooks;

/// <summary>
/// Packs ResNet.MLNet and ResNet.MLNet.Interactive into the local feed (artifacts/packages), once for the class, and
/// prepares a NuGet package folder for the apps in which those two are always fresh: a re-packed 0.1.0 keeps its version,
/// so a copy left in a package cache from an earlier pack would be stale. Every other package (libtorch is ~600 MB) is
/// taken from the user's package folder as a fallback folder, so nothing is downloaded or copied twice.
/// </summary>
public sealed class LocalFeed
{
    private static readonly string[] OurPackages = ["ResNet.MLNet", "ResNet.MLNet.Interactive"];

    public LocalFeed()
    {
        Packages = Path.Combine(Repo.Root, "artifacts", "packages");
        foreach (string project in OurPackages)
        {
            var pack = ChildProcess.Run("dotnet", ["pack", Path.Combine(Repo.Root, "src", project), "-c", "Release", "-o", Packages, "--nologo"], TimeSpan.FromMinutes(10));
            Assert.True(pack.ExitCode == 0, $"dotnet pack {project} failed:\n{pack.Output}\n{pack.Error}");
        }

        PackageFolder = Path.Combine(Repo.Root, "artifacts", "notebook-apps", "nuget");
        foreach (string id in OurPackages)
        {
            string stale = Path.Combine(PackageFolder, id.ToLowerInvariant());
            if (Directory.Exists(stale))
                Directory.Delete(stale, recursive: true);
        }
        string user = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        // The user's folder is a safe fallback only while it holds no copy of our packages, which would win over the feed.
        FallbackFolder = Directory.Exists(user) && !OurPackages.Any(id => Directory.Exists(Path.Combine(user, id.ToLowerInvariant()))) ? user : null;
    }

    public string Packages { get; }

    public string PackageFolder { get; }

    public string? FallbackFolder { get; }
}

/// <summary>
/// Runs each generated file-based app with <c>dotnet run --no-cache</c> in quick mode against the freshly packed local feed.
/// Slow (a restore and build per app): exclude with <c>--filter "Category=Notebooks&amp;Notebooks!=App"</c>.
/// </summary>
[Trait("Category", "Notebooks")]
[Trait("Notebooks", "App")]
public class NotebookAppRunTests(LocalFeed feed, ITestOutputHelper output) : IClassFixture<LocalFeed>
{
    public static TheoryData<string> Notebooks => NotebookFiles.Names;

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Runs_with_dotnet_run_in_quick_mode(string name)
    {
        string app = NotebookApp.PathFor(NotebookFiles.Load(name));
        var environment = new Dictionary<string, string?>
        {
            ["RESNET_MLNET_QUICK"] = "1",
            ["NUGET_PACKAGES"] = feed.PackageFolder,
            ["RestoreFallbackFolders"] = feed.FallbackFolder, // read by NuGet's restore as an MSBuild property
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        };
        // Started from the repository root: the app finds its data through its own location, not the working directory.
        var run = ChildProcess.Run("dotnet", ["run", "--no-cache", app], TimeSpan.FromMinutes(15), Repo.Root, environment);
        output.WriteLine($"{name}: exit {run.ExitCode} after {run.Elapsed.TotalSeconds:F0} s");
        output.WriteLine(run.Output);
        output.WriteLine(run.Error);
        Assert.True(run.ExitCode == 0, $"dotnet run {app} exited {run.ExitCode}:\n{run.Output}\n{run.Error}");
    }
}
