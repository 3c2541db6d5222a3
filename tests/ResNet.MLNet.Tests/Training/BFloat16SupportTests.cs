using ResNet.MLNet.Training;

namespace ResNet.MLNet.Tests.Training;

public class BFloat16SupportTests
{
    [Fact]
    public void Says_float32_native_or_emulated()
    {
        Assert.Equal("float32", BFloat16Support.Describe(false, "cpu", nativeOnCpu: false));
        Assert.Contains("native", BFloat16Support.Describe(true, "cpu", nativeOnCpu: true));
        Assert.Contains("emulated", BFloat16Support.Describe(true, "cpu", nativeOnCpu: false));
        Assert.Equal("bfloat16 mixed precision on cuda", BFloat16Support.Describe(true, "cuda", nativeOnCpu: false));
    }
}
