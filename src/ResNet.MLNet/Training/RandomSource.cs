namespace ResNet.MLNet.Training;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood 2014): a small generator whose output depends only on its seed, on every platform
/// and .NET version (unlike <see cref="System.Random"/>, whose seeded algorithm may change). The trainer derives one per
/// epoch from the seed and the epoch number, so the data order and augmentation of an epoch need no saved state.
/// </summary>
internal sealed class RandomSource
{
    private ulong state;

    public RandomSource(long seed) => state = (ulong)seed;

    /// <summary>The generator for one purpose (<paramref name="stream"/>) of one epoch of a run seeded with <paramref name="seed"/>.</summary>
    public static RandomSource For(long seed, int epoch, int stream) =>
        new((long)Mix(Mix((ulong)seed) ^ ((ulong)epoch * 0x9E3779B97F4A7C15UL) ^ ((ulong)stream << 48)));

    /// <summary>
    /// The generator of item <paramref name="item"/> (a position in the epoch's order) for one purpose of one epoch: items
    /// draw independently of each other, so the result does not depend on which thread prepares which item, or when.
    /// </summary>
    public static RandomSource ForItem(long seed, int epoch, int stream, int item) =>
        new((long)Mix((ulong)For(seed, epoch, stream).NextUInt64() ^ ((ulong)item * 0xD1B54A32D192ED03UL)));

    public ulong NextUInt64()
    {
        state += 0x9E3779B97F4A7C15UL;
        return Mix(state);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [<paramref name="min"/>, <paramref name="max"/>).</summary>
    public double NextDouble(double min, double max) => min + (max - min) * NextDouble();

    /// <summary>Uniform integer in [0, <paramref name="maxExclusive"/>) (Lemire's multiply-shift; the bias is below 2^-32 here).</summary>
    public int NextInt(int maxExclusive) => (int)((NextUInt64() >> 32) * (ulong)maxExclusive >> 32);

    /// <summary>Fisher-Yates shuffle in place.</summary>
    public void Shuffle(Span<int> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
