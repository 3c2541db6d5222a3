using ResNet.MLNet.Native;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Native;

public class TorchRuntimeTests
{
    [Fact]
    public void A_tensor_operation_runs_in_the_test_process()
    {
        TorchRuntime.EnsureInitialized();
        using var a = arange(6, dtype: ScalarType.Float32).reshape(2, 3);
        using var b = a.matmul(a.t());
        Assert.Equal(new float[] { 5, 14, 14, 50 }, b.data<float>().ToArray());
    }

    [Fact]
    public void The_loaded_native_library_tolerates_libstdcxx_12()
    {
        var candidates = TorchRuntime.NativeLibraryCandidates().ToList();
        if (!OperatingSystem.IsLinux())
            return;
        Assert.NotEmpty(candidates);
        foreach (string path in candidates)
        {
            // Already patched: marking the version weak again changes nothing.
            byte[] image = File.ReadAllBytes(path);
            Assert.Equal(0, ElfVersionPatcher.MarkVersionWeak(image, ElfVersionPatcher.LibStdCxxMarkerVersion));
        }
    }

    [Fact]
    public void The_patcher_marks_exactly_the_marker_version_weak()
    {
        string? original = Directory.EnumerateFiles(
                Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages", "torchsharp"),
                "libLibTorchSharp.so", SearchOption.AllDirectories)
            .FirstOrDefault();
        if (original is null)
            return; // not restored from the default NuGet cache on this machine
        byte[] image = File.ReadAllBytes(original);
        byte[] before = (byte[])image.Clone();
        int changed = ElfVersionPatcher.MarkVersionWeak(image, ElfVersionPatcher.LibStdCxxMarkerVersion);
        Assert.InRange(changed, 0, 1);
        // Only the flags field of the one version entry may differ (2 bytes at most).
        Assert.InRange(image.Zip(before).Count(p => p.First != p.Second), 0, 2);
        Assert.Equal(0, ElfVersionPatcher.MarkVersionWeak(image, ElfVersionPatcher.LibStdCxxMarkerVersion));
    }

    [Fact]
    public void The_patcher_rejects_files_that_are_not_elf()
    {
        var e = Assert.Throws<InvalidDataException>(() => ElfVersionPatcher.MarkVersionWeak(new byte[100], "GLIBCXX_3.4.32"));
        Assert.Contains("not an ELF file", e.Message);
        var truncated = new byte[64];
        truncated[0] = 0x7f; truncated[1] = (byte)'E'; truncated[2] = (byte)'L'; truncated[3] = (byte)'F'; truncated[4] = 2; truncated[5] = 1;
        truncated[0x28] = 0xff; truncated[0x3C] = 1; // section table far past the end
        Assert.Throws<InvalidDataException>(() => ElfVersionPatcher.MarkVersionWeak(truncated, "GLIBCXX_3.4.32"));
    }
}
