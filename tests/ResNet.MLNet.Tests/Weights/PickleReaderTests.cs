using System.Diagnostics;
using System.Text;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Tests.Weights;

public class PickleReaderTests
{
    private static object? Load(params byte[] pickle) => new PickleReader(new ByteCursor(pickle, "test.pkl"), new TorchPickleResolver()).Load();

    private static byte[] Global(string module, string name) => [0x63, .. Encoding.ASCII.GetBytes($"{module}\n{name}\n")];

    [Theory]
    [InlineData("nt", "system")]
    [InlineData("posix", "system")]
    [InlineData("builtins", "eval")]
    [InlineData("builtins", "getattr")]
    [InlineData("System.Diagnostics", "Process")]
    [InlineData("torch", "load")]
    [InlineData("torch._utils", "_rebuild_device_tensor_from_numpy")]
    public void Should_refuse_any_global_outside_the_allowlist_when_it_is_read(string module, string name)
    {
        // GLOBAL at byte 2, then bytes that are not even a valid pickle: the refusal comes first.
        var e = Assert.Throws<UnsafePickleException>(() => Load([0x80, 2, .. Global(module, name), 0xFF, 0xFF]));
        Assert.Equal($"{module}.{name}", e.Global);
        Assert.Contains("test.pkl", e.Message);
        Assert.Contains("at byte 2", e.Message);
    }

    [Fact]
    public void Should_refuse_a_stack_global_outside_the_allowlist()
    {
        byte[] pickle = [0x80, 4, 0x8C, 8, .. "builtins"u8, 0x8C, 4, .. "exec"u8, 0x93, 0x2E];
        Assert.Equal("builtins.exec", Assert.Throws<UnsafePickleException>(() => Load(pickle)).Global);
    }

    [Fact]
    public void Should_refuse_INST_naming_a_disallowed_class()
    {
        Assert.Equal("os.system", Assert.Throws<UnsafePickleException>(() => Load([0x28, 0x69, .. "os\nsystem\n"u8, 0x2E])).Global);
    }

    [Fact]
    public void Should_read_plain_values_of_protocol_4()
    {
        // {'a': [1, -2, 3.5, True, None, b'xy', (300, 70000, 2**70)]} framed, with MEMOIZE.
        byte[] long70 = [0x8A, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x40];
        byte[] pickle =
        [
            0x80, 4, 0x95, 40, 0, 0, 0, 0, 0, 0, 0, 0x7D, 0x94, 0x8C, 1, (byte)'a', 0x94, 0x5D, 0x94, 0x28,
            0x4B, 1, 0x4A, 0xFE, 0xFF, 0xFF, 0xFF, 0x47, 0x40, 0x0C, 0, 0, 0, 0, 0, 0, 0x88, 0x4E, 0x43, 2, (byte)'x', (byte)'y',
            0x4D, 0x2C, 0x01, 0x4A, 0x70, 0x11, 0x01, 0x00, .. long70, 0x87, 0x65, 0x73, 0x2E,
        ];
        var dict = Assert.IsType<PickleDict>(Load(pickle));
        Assert.True(dict.TryGet("a", out var value));
        var list = Assert.IsType<List<object?>>(value);
        Assert.Equal(1L, list[0]);
        Assert.Equal(-2L, list[1]);
        Assert.Equal(3.5, list[2]);
        Assert.Equal(true, list[3]);
        Assert.Null(list[4]);
        Assert.Equal("xy"u8.ToArray(), list[5]);
        var tuple = Assert.IsType<object?[]>(list[6]);
        Assert.Equal(300L, tuple[0]);
        Assert.Equal(70000L, tuple[1]);
        Assert.Equal(System.Numerics.BigInteger.Pow(2, 70), tuple[2]);
    }

    [Fact]
    public void Should_refuse_nesting_deeper_than_the_limit()
    {
        var e = Assert.Throws<InvalidDataException>(() => Load([0x80, 2, .. Enumerable.Repeat((byte)0x28, PickleReader.MaxDepth + 1), 0x2E]));
        Assert.Contains("deeper", e.Message);
    }

    [Fact]
    public void Should_build_deep_and_cyclic_structures_through_the_memo_without_recursion()
    {
        // root = []; memo[0] = root; 100,000 times: prev = memo[0]; new = []; memo[0] = new; prev.append(new)
        var pickle = new List<byte> { 0x80, 2, 0x5D, 0x71, 0 };
        for (int i = 0; i < 100_000; i++)
            pickle.AddRange([0x68, 0, 0x5D, 0x71, 0, 0x61, 0x30]);
        pickle.AddRange([0x68, 0, 0x68, 0, 0x61, 0x30, 0x2E]); // the innermost list contains itself
        var watch = Stopwatch.StartNew();
        var root = Assert.IsType<List<object?>>(Load([.. pickle]));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
        Assert.Single(root);
    }

    [Theory]
    [InlineData(new byte[] { 0x58, 0xFF, 0xFF, 0xFF, 0xFF, (byte)'a' })] // BINUNICODE of 4 GiB
    [InlineData(new byte[] { 0x8D, 0, 0, 0, 0, 0, 0, 0, 0x40 })] // BINUNICODE8 of 2^62 bytes
    [InlineData(new byte[] { 0x8E, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF })] // BINBYTES8 of 2^64 - 1 bytes
    [InlineData(new byte[] { 0x8B, 0xFF, 0xFF, 0xFF, 0x7F })] // LONG4 of 2 GiB
    [InlineData(new byte[] { 0x95, 0, 0, 0, 0, 0, 0, 0, 0x80 })] // FRAME of 2^63 bytes
    [InlineData(new byte[] { 0x8C, 0xFF, (byte)'a' })] // SHORT_BINUNICODE past the end
    [InlineData(new byte[] { 0x6A, 5, 0, 0, 0, 0x2E })] // LONG_BINGET of an unset memo entry
    [InlineData(new byte[] { 0x2E })] // STOP on an empty stack
    [InlineData(new byte[] { 0xFE })] // no such opcode
    [InlineData(new byte[] { })] // nothing
    [InlineData(new byte[] { 0x58, 2, 0, 0, 0, 0xC3, 0x28, 0x2E })] // invalid UTF-8
    [InlineData(new byte[] { 0x4E, 0x52, 0x2E })] // REDUCE without a callable
    [InlineData(new byte[] { 0x4B, 1, 0x4B, 2, 0x61, 0x2E })] // APPEND to an int
    public void Should_refuse_malformed_pickles_quickly(byte[] body)
    {
        var watch = Stopwatch.StartNew();
        Assert.Throws<InvalidDataException>(() => Load([0x80, 2, .. body]));
        // Refused from the declared length, before any allocation or loop: far under this bound, which only catches a
        // reader that tries to fill gigabytes (a bound of 1 s was tight for a loaded CI machine's first call).
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"refusing took {watch.Elapsed}");
    }
}
