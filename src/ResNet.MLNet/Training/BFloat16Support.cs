namespace ResNet.MLNet.Training;

/// <summary>
/// Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX-BF16). There, bfloat16 mixed precision
/// (<see cref="TrainingOptions.MixedPrecisionBFloat16"/>) trains ResNet-50 several times faster than float32; elsewhere
/// libtorch emulates bfloat16 and it is slower than float32. Use it to turn mixed precision on where it pays:
/// <c>MixedPrecisionBFloat16 = BFloat16Support.IsNativeOnCpu</c>.
/// </summary>
public static class BFloat16Support
{
    /// <summary>True when this CPU has AVX512-BF16 or AMX-BF16 (read from /proc/cpuinfo; false where it cannot be read).</summary>
    public static bool IsNativeOnCpu => Native.CpuFlags.HasAny("avx512_bf16", "amx_bf16");

    /// <summary>Whether bfloat16 mixed precision on <paramref name="device"/> ("cpu", "cuda:1") would be emulated: slower than float32.</summary>
    internal static bool Emulates(bool mixedPrecision, string device) => mixedPrecision && OnCpu(device) && !IsNativeOnCpu;

    /// <summary>What a run on <paramref name="device"/> computes in, in words: float32, or bfloat16 mixed precision and whether it is native.</summary>
    internal static string Describe(bool mixedPrecision, string device) => Describe(mixedPrecision, device, IsNativeOnCpu);

    internal static string Describe(bool mixedPrecision, string device, bool nativeOnCpu) =>
        !mixedPrecision ? "float32"
        : !OnCpu(device) ? $"bfloat16 mixed precision on {device}"
        : nativeOnCpu ? "bfloat16 mixed precision, native on this CPU (AVX512-BF16 or AMX-BF16)"
        : "bfloat16 mixed precision, emulated: this CPU has neither AVX512-BF16 nor AMX-BF16, so it trains slower than float32";

    private static bool OnCpu(string device) => device.StartsWith("cpu", StringComparison.OrdinalIgnoreCase);
}
