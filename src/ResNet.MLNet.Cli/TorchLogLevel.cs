using System.Runtime.InteropServices;

namespace ResNet.MLNet.Cli;

/// <summary>
/// Quiets libtorch's C++ warnings for the command line. libtorch 2.10 logs "Could not initialize NNPACK! Reason:
/// Unsupported hardware." on every convolution of CPUs NNPACK does not support (this machine's AVX-512 EPYC), burying
/// the command's output; <c>TORCH_CPP_LOG_LEVEL=ERROR</c> silences such warnings. libtorch reads the native environment
/// when it loads, which <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not change on Linux, so
/// this calls libc's <c>setenv</c>. A value the user set is kept.
/// </summary>
internal static class TorchLogLevel
{
    public const string Variable = "TORCH_CPP_LOG_LEVEL";

    public static void QuietUnlessSet()
    {
        if (Environment.GetEnvironmentVariable(Variable) is not null)
            return;
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
            _ = setenv(Variable, "ERROR", 0);
        Environment.SetEnvironmentVariable(Variable, "ERROR");
    }

    [DllImport("libc", CharSet = CharSet.Ansi)]
    private static extern int setenv(string name, string value, int overwrite);
}
