using ResNet.MLNet.Native;

namespace ResNet.MLNet.Tests.Native;

public class CpuFlagsTests
{
    [Theory]
    [InlineData("flags\t\t: fpu vme avx2 avx512f avx512_vnni avx512_bf16 vaes", "avx512_bf16", true)]
    [InlineData("flags\t\t: fpu avx2 amx_bf16 amx_tile amx_int8", "amx_bf16", true)]
    [InlineData("flags\t\t: fpu vme avx2 avx512f avx512bw avx512_vnni", "avx512_bf16", false)]
    [InlineData("flags\t\t: fpu avx512_bf16x", "avx512_bf16", false)]
    [InlineData("flags\t\t: avx512_vnni fpu", "avx512_vnni", true)]
    public void Reads_the_flags_line_of_proc_cpuinfo(string flagsLine, string flag, bool listed)
    {
        string[] cpuinfo = ["processor\t: 0", "model name\t: avx512_bf16 avx512_vnni in a name are no flags", flagsLine, "bugs\t\t: spectre_v1"];
        Assert.Equal(listed, CpuFlags.Parse(cpuinfo).Contains(flag));
    }

    [Fact]
    public void No_flags_line_means_no_flags() => Assert.Empty(CpuFlags.Parse(["processor\t: 0"]));
}
