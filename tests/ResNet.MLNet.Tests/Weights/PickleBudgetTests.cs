using ResNet.MLNet.Tests.TestSupport;
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
        byte[] bytes = HostileWeights.MemoBombPickle();

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
        byte[] bytes = HostileWeights.OpcodeFloodPickle(unit, count);

        var (error, allocated) = Measure(bytes);

        Assert.IsType<InvalidDataException>(error); // over the budget, or a STOP with many values on the stack
        Assert.Contains("hostile.pkl", error.Message);
        Assert.True(allocated < Bound(bytes), $"allocated {allocated:N0} bytes for a {bytes.Length:N0}-byte pickle: {error.Message}");
    }

    [Fact]
    public void Should_hash_integer_keys_that_collide_under_long_GetHashCode_apart()
    {
        // (i << 32) | i: both halves equal, so long.GetHashCode() is 0 for every key.
        var keys = HostileWeights.CollidingKeys(150_000);
        Assert.Single(keys.Select(k => k.GetHashCode()).Distinct());

        int distinct = keys.Select(k => PickleDict.KeyComparer.Instance.GetHashCode(k)).Distinct().Count();
        Assert.True(distinct > 149_000, $"{distinct} distinct hashes of 150,000 keys");

        // And a dict of them loads (the quadratic insert took minutes).
        var dict = Assert.IsType<PickleDict>(Load(HostileWeights.CollidingKeysPickle(50_000)));
        Assert.Equal(50_000, dict.Count);
        Assert.True(dict.TryGet(keys[49_999], out _));
        Assert.True(PickleDict.KeyComparer.Instance.Equals(-0.0, 0.0) && PickleDict.KeyComparer.Instance.GetHashCode(-0.0) == PickleDict.KeyComparer.Instance.GetHashCode(0.0));
    }
}
