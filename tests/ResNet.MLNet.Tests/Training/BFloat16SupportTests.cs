using ResNet.MLNet.Training;

namespace ResNet.MLNet.Tests.Training;

public class BFloat16SupportTests
{
    [Theory]
    [InlineData("flags\t\t: fpu vme avx2 avx512f avx512_vnni avx512_bf16 vaes", true)]
    [InlineData("flags\t\t: fpu avx2 amx_bf16 amx_tile amx_int8", true)]
    [InlineData("flags\t\t: fpu vme avx2 avx512f avx512bw avx512_vnni", false)]
    [InlineData("flags\t\t: fpu avx512_bf16x", false)]
    [InlineData("model name\t: avx512_bf16 in a name is not a flag", false)]
    public void Reads_native_bfloat16_from_the_cpu_flags(string line, bool native) =>
        Assert.Equal(native, BFloat16Support.HasNativeFlag(line));

    [Fact]
    public void Says_float32_native_or_emulated()
    {
        Assert.Equal("float32", BFloat16Support.Describe(false, "cpu", nativeOnCpu: false));
        Assert.Contains("native", BFloat16Support.Describe(true, "cpu", nativeOnCpu: true));
        Assert.Contains("emulated", BFloat16Support.Describe(true, "cpu", nativeOnCpu: false));
        Assert.Equal("bfloat16 mixed precision on cuda", BFloat16Support.Describe(true, "cuda", nativeOnCpu: false));
    }
}
