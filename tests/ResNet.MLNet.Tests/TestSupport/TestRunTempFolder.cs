using System.Runtime.CompilerServices;

namespace ResNet.MLNet.Tests.TestSupport;

/// <summary>
/// Gives the test run a temp folder of its own, deleted when the run ends: <c>Path.GetTempPath</c> reads TMPDIR (TMP
/// and TEMP on Windows), and the processes the tests start inherit it. Whatever is left there — ML.NET's copies of the
/// ONNX models of loaded models a test did not dispose, the files of a child process killed at its timeout — does not
/// pile up on the machine from run to run.
/// </summary>
internal static class TestRunTempFolder
{
    [ModuleInitializer]
    internal static void Initialize()
    {
        // Short: Chromium (the serve page test) puts a Unix socket in it, and socket paths are limited to 107 bytes.
        string folder = Path.Combine(Path.GetTempPath(), $"resnet-tests-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(folder);
        foreach (string variable in OperatingSystem.IsWindows() ? ["TMP", "TEMP"] : new[] { "TMPDIR" })
            Environment.SetEnvironmentVariable(variable, folder);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(folder, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        };
    }
}
