using ResNet.MLNet.Tests.TestSupport;

namespace ResNet.MLNet.Tests.Cli;

/// <summary>The CLI packs as a .NET tool that installs from the packed folder and runs as <c>resnet-mlnet</c>, libtorch included.</summary>
public class ToolPackageTests
{
    [Fact]
    public void Packs_installs_and_runs_as_resnet_mlnet()
    {
        using var dir = new TempDirectory();
        string packages = dir.File("packages"), tools = dir.File("tools");
        // --no-build: the solution's Release build (the README's test command) already built the CLI. The tool's publish
        // folder (1.3 GB, libtorch included) goes to the temp directory too, not into the CLI's bin.
        var pack = ChildProcess.Run("dotnet", ["pack", Path.Combine(Repo.Root, "src", "ResNet.MLNet.Cli"), "-c", "Release", "--no-build", "-o", packages,
                $"-p:PublishDir={dir.File("publish")}{Path.DirectorySeparatorChar}"],
            TimeSpan.FromMinutes(5), Repo.Root);
        Assert.True(pack.ExitCode == 0, pack.Output + pack.Error);
        Directory.Delete(dir.File("publish"), recursive: true); // packed: 1.3 GB less on the disk while the tool installs
        var install = ChildProcess.Run("dotnet", ["tool", "install", "--tool-path", tools, "--add-source", packages, "ResNet.MLNet.Cli"],
            TimeSpan.FromMinutes(5), dir.Path);
        Assert.True(install.ExitCode == 0, install.Output + install.Error);

        string tool = Path.Combine(tools, OperatingSystem.IsWindows() ? "resnet-mlnet.exe" : "resnet-mlnet");
        var help = ChildProcess.Run(tool, ["--help"], TimeSpan.FromMinutes(1), dir.Path);
        Assert.True(help.ExitCode == 0, help.Error);
        Assert.Contains("resnet-mlnet [command] [options]", help.Output);
        // A command that builds a network: the installed tool loads libtorch (patched for libstdc++ 12 like the build output).
        var summary = ChildProcess.Run(tool, ["summary", "--arch", "resnet18"], TimeSpan.FromMinutes(1), dir.Path);
        Assert.True(summary.ExitCode == 0, summary.Output + summary.Error);
        Assert.Contains("11,689,512", summary.Output);
    }
}
