using System.Diagnostics;

namespace ResNet.MLNet.Tests.TestSupport;

/// <summary>The reference PyTorch: Debian's /usr/bin/python3 with torch 1.13 and torchvision, a fixture tool only.</summary>
public static class ReferencePython
{
    public const string Executable = "/usr/bin/python3";

    private static readonly Lazy<string?> Missing = new(() =>
    {
        if (!File.Exists(Executable))
            return $"{Executable} is not installed";
        try
        {
            var (code, _, error) = Run(TimeSpan.FromMinutes(1), "-c", "import torch, torchvision");
            return code == 0 ? null : $"{Executable} cannot import torch and torchvision: {error.Trim()}";
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or TimeoutException)
        {
            return $"{Executable} did not run: {e.Message}";
        }
    });

    /// <summary>Why the reference is unavailable, or null when it is there.</summary>
    public static string? WhyUnavailable => Missing.Value;

    /// <summary>Runs the interpreter with arguments; returns exit code, stdout and stderr.</summary>
    public static (int ExitCode, string Output, string Error) Run(TimeSpan timeout, params string[] arguments)
    {
        var start = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in arguments)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Executable} {string.Join(" ", arguments)} ran longer than {timeout}.");
        }
        return (process.ExitCode, output.Result, error.Result);
    }

    /// <summary>Runs the fixture script with arguments; fails the test when it fails.</summary>
    public static string RunFixtureScript(TimeSpan timeout, params string[] arguments)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "Fixtures", "weights", "make_weights_fixtures.py");
        var (code, output, error) = Run(timeout, [script, .. arguments]);
        Assert.True(code == 0, $"make_weights_fixtures.py {string.Join(" ", arguments)} exited with {code}:\n{output}\n{error}");
        return output;
    }
}

/// <summary>A fact that needs the reference PyTorch; skipped, with the reason shown, where it is not installed.</summary>
public sealed class ReferencePythonFactAttribute : FactAttribute
{
    public ReferencePythonFactAttribute()
    {
        if (ReferencePython.WhyUnavailable is { } reason)
            Skip = $"Needs the reference PyTorch: {reason} (apt-get install python3-torch python3-torchvision).";
    }
}
