using System.Diagnostics;
using System.Text.Json;

namespace ResNet.MLNet.Tests.TestSupport;

/// <summary>
/// Scores a saved model in a separate process that references plain ML.NET only (tests/ResNet.MLNet.PlainScorer),
/// the way a user's service would load it.
/// </summary>
internal static class PlainMLNet
{
    public static List<Dictionary<string, JsonElement>> Score(string modelPath, IEnumerable<(string Path, string Label)> images, params string[] columns)
    {
        string list = Path.GetTempFileName();
        File.WriteAllLines(list, images.Select(i => $"{i.Path}\t{i.Label}"));
        string scorer = Path.Combine(AppContext.BaseDirectory.Replace("ResNet.MLNet.Tests", "ResNet.MLNet.PlainScorer"), "ResNet.MLNet.PlainScorer.dll");
        Assert.True(File.Exists(scorer), $"plain scorer not built at {scorer}");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { scorer, modelPath, list }.Concat(columns))
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        File.Delete(list);
        Assert.True(process.ExitCode == 0, $"plain scorer exited {process.ExitCode}: {stderr}");
        return stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(line)!).ToList();
    }
}
