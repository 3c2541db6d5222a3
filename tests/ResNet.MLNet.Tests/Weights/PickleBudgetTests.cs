using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Tests.Weights;

/// <summary>
/// A pickle's memory is bounded by its file's size (<see cref="PickleBudget"/>) and its dict keys cannot be chosen to
/// collide. Allocations are measured on the test's thread (the reader runs on it), not timed.
/// </summary>
public class PickleBudgetTests
{
    private static object? Load(byte[] pickle) => new PickleReader(new ByteCursor(pickle, "hostile.pkl"), new TorchPickleResolver()).Load();

    private static (Exception? Error, long Allocated) Measure(byte[] pickle)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Record.Exception(() => Load(pickle));
        return (error, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static long Bound(byte[] pickle) => PickleBudget.Minimum + 2L * PickleBudget.PerFileByte * pickle.Length;

    [Fact]
    public void Should_refuse_a_memoized_string_re_encoded_thousands_of_times()
    {
        List<byte> pickle = [0x80, 2, 0x63, .. "_codecs\nencode\n"u8, 0x71, 0, 0x30]; // GLOBAL, BINPUT 0, POP
        pickle.AddRange([0x58, .. BitConverter.GetBytes(65536), .. Enumerable.Repeat((byte)'a', 65536), 0x71, 1, 0x30]); // 64 KiB str
        pickle.AddRange([0x8C, 6, .. "latin1"u8, 0x71, 2, 0x30]);
        pickle.Add(0x5D); // EMPTY_LIST
        for (int i = 0; i < 20_000; i++) // 9 bytes each, 64 KiB each: 1.3 GB from 245 KB without a budget
            pickle.AddRange([0x68, 0, 0x68, 1, 0x68, 2, 0x86, 0x52, 0x61]); // BINGET x3, TUPLE2, REDUCE, APPEND
        pickle.Add(0x2E);
        byte[] bytes = [.. pickle];

        var (error, allocated) = Measure(bytes);

        var e = Assert.IsType<InvalidDataException>(error);
        Assert.Contains("hostile.pkl", e.Message);
        Assert.Contains("would allocate more than", e.Message);
        Assert.True(allocated < Bound(bytes), $"allocated {allocated:N0} bytes for a {bytes.Length:N0}-byte pickle");
    }

    [Theory]
    [InlineData(new byte[] { 0x7D, 0x94 }, 500_000)] // EMPTY_DICT, MEMOIZE
    [InlineData(new byte[] { 0x5D, 0x94 }, 500_000)] // EMPTY_LIST, MEMOIZE
    [InlineData(new byte[] { 0x32 }, 4_000_000)] // DUP
    public void Should_keep_opcode_floods_within_a_small_multiple_of_the_file(byte[] unit, int count)
    {
        byte[] bytes = [0x80, 2, 0x4E, .. Enumerable.Range(0, count).SelectMany(_ => unit), 0x2E];

        var (error, allocated) = Measure(bytes);

        Assert.IsType<InvalidDataException>(error); // over the budget, or a STOP with many values on the stack
        Assert.Contains("hostile.pkl", error.Message);
        Assert.True(allocated < Bound(bytes), $"allocated {allocated:N0} bytes for a {bytes.Length:N0}-byte pickle: {error.Message}");
    }

    [Fact]
    public void Should_hash_integer_keys_that_collide_under_long_GetHashCode_apart()
    {
        // (i << 32) | i: both halves equal, so long.GetHashCode() is 0 for every key.
        var keys = Enumerable.Range(1, 150_000).Select(i => ((long)i << 32) | (uint)i).ToList();
        Assert.Single(keys.Select(k => k.GetHashCode()).Distinct());

        int distinct = keys.Select(k => PickleDict.KeyComparer.Instance.GetHashCode(k)).Distinct().Count();
        Assert.True(distinct > 149_000, $"{distinct} distinct hashes of 150,000 keys");

        // And a dict of them loads (the quadratic insert took minutes).
        List<byte> pickle = [0x80, 2, 0x7D, 0x28];
        foreach (long k in keys.Take(50_000))
            pickle.AddRange([0x8A, 8, .. BitConverter.GetBytes(k), 0x4E]);
        pickle.AddRange([0x75, 0x2E]); // SETITEMS, STOP
        var dict = Assert.IsType<PickleDict>(Load([.. pickle]));
        Assert.Equal(50_000, dict.Count);
        Assert.True(dict.TryGet(keys[49_999], out _));
        Assert.True(PickleDict.KeyComparer.Instance.Equals(-0.0, 0.0) && PickleDict.KeyComparer.Instance.GetHashCode(-0.0) == PickleDict.KeyComparer.Instance.GetHashCode(0.0));
    }
}
