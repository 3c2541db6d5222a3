using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;

namespace ResNet.MLNet.Native;

/// <summary>
/// Makes TorchSharp's native backend load on the systems users have. On Linux, TorchSharp 0.107's
/// <c>libLibTorchSharp.so</c> requires <c>GLIBCXX_3.4.32</c> (GCC 13's libstdc++) for one marker symbol it never calls,
/// so it fails to load on Debian 12 and Ubuntu 22.04. The build targets shipped with the package patch the copy in an
/// application's output; this class does the same at first use for copies the build did not see (for example the
/// NuGet cache that notebooks load from), then initializes libtorch and turns any failure into an actionable message.
/// </summary>
internal static class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool _initialized;

    /// <summary>Patches what the loader will see as soon as the toolkit assembly is touched, before TorchSharp loads.</summary>
#pragma warning disable CA2255 // Deliberate: the patch must happen before TorchSharp's first native call, whoever makes it.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void PrepareOnLoad()
    {
        try
        {
            PatchNativeCopies();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            // Reported, with the loader's own message, by EnsureInitialized if loading then fails.
        }
    }

    /// <summary>
    /// Loads libtorch for the CPU device (idempotent, thread-safe). Every toolkit entry point that touches tensors
    /// calls it; applications that use TorchSharp directly before any toolkit API can call it first.
    /// </summary>
    /// <exception cref="TorchRuntimeException">The native backend could not be loaded; the message names the library and the cause.</exception>
    public static void EnsureInitialized()
    {
        if (_initialized)
            return;
        lock (Gate)
        {
            if (_initialized)
                return;
            PatchNativeCopies();
            try
            {
                torch.InitializeDeviceType(DeviceType.CPU);
                using var probe = torch.ones(1);
            }
            catch (Exception e) when (e is NotSupportedException or DllNotFoundException or EntryPointNotFoundException or TypeInitializationException)
            {
                throw new TorchRuntimeException(Diagnose(e), e);
            }
            _initialized = true;
        }
    }

    /// <summary>The places where TorchSharp looks for <c>libLibTorchSharp.so</c>, existing ones only.</summary>
    internal static IEnumerable<string> NativeLibraryCandidates()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            yield break;
        const string name = "libLibTorchSharp.so";
        string rid = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        var dirs = new List<string> { AppContext.BaseDirectory, Path.Combine(AppContext.BaseDirectory, "runtimes", rid, "native") };
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string searchDirs)
            dirs.AddRange(searchDirs.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        string? torchSharpDir = Path.GetDirectoryName(typeof(torch).Assembly.Location);
        if (!string.IsNullOrEmpty(torchSharpDir))
        {
            dirs.Add(torchSharpDir);
            dirs.Add(Path.Combine(torchSharpDir, "cpu")); // TorchSharp's consolidation folder for notebooks
            dirs.Add(Path.GetFullPath(Path.Combine(torchSharpDir, "..", "..", "runtimes", rid, "native"))); // NuGet cache layout
        }
        foreach (string dir in dirs.Select(d => Path.TrimEndingDirectorySeparator(Path.GetFullPath(d))).Distinct(StringComparer.Ordinal))
        {
            string path = Path.Combine(dir, name);
            if (File.Exists(path))
                yield return path;
        }
    }

    private static void PatchNativeCopies()
    {
        foreach (string path in NativeLibraryCandidates())
            ElfVersionPatcher.PatchFile(path, path);
    }

    private static string Diagnose(Exception e)
    {
        var lines = new List<string> { "ResNet.MLNet could not load TorchSharp's native backend (libtorch)." };
        foreach (string path in NativeLibraryCandidates())
        {
            try
            {
                NativeLibrary.Free(NativeLibrary.Load(path));
            }
            catch (DllNotFoundException loadError)
            {
                lines.Add($"Loading {path} failed: {loadError.Message}");
            }
        }
        if (lines.Count == 1)
            lines.Add($"No libLibTorchSharp.so was found next to the application or TorchSharp.dll. TorchSharp said: {FirstLine(e.Message)}");
        lines.Add("What to do: reference a libtorch backend package from the application (libtorch-cpu-linux-x64 / libtorch-cpu-win-x64 2.10.0, " +
                  "or TorchSharp-cuda-linux / TorchSharp-cuda-windows), and make sure the application's output folder is writable on first run. " +
                  "If the loader reports a missing GLIBCXX version other than 3.4.32, install a newer libstdc++ (GCC 13 or later).");
        return string.Join(Environment.NewLine, lines);
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();
}

/// <summary>Thrown when libtorch cannot be loaded; the message says which native library failed, why, and what to do.</summary>
public sealed class TorchRuntimeException : Exception
{
    /// <summary>Creates the exception with its diagnosis.</summary>
    public TorchRuntimeException(string message, Exception inner) : base(message, inner) { }
}
