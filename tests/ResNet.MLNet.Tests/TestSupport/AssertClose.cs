namespace ResNet.MLNet.Tests.TestSupport;

internal static class AssertClose
{
    /// <summary>Asserts every |expected - actual| is at most <paramref name="tolerance"/> times max(1, max |expected|); returns the worst relative difference.</summary>
    public static double Relative(IReadOnlyList<float> expected, IReadOnlyList<float> actual, double tolerance)
    {
        Assert.Equal(expected.Count, actual.Count);
        double scale = Math.Max(1.0, expected.Max(v => Math.Abs((double)v)));
        double worst = 0;
        int worstIndex = -1;
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.False(float.IsNaN(actual[i]), $"element {i} is NaN");
            double diff = Math.Abs((double)expected[i] - actual[i]);
            if (diff > worst)
                (worst, worstIndex) = (diff, i);
        }
        if (worstIndex < 0)
            return 0; // identical
        Assert.True(worst <= tolerance * scale,
            $"max |diff| = {worst:G4} at element {worstIndex} (expected {expected[worstIndex]}, got {actual[worstIndex]}) exceeds {tolerance} x {scale:G4}");
        return worst / scale;
    }
}
