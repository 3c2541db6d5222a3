using ResNet.MLNet.Training;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Training;

public class FeatureCacheTests
{
    private static float[] Rows(int from, int count, int width) =>
        Enumerable.Range(from * width, count * width).Select(i => i * 0.25f - 3).ToArray();

    [Theory]
    [InlineData(1L << 20, false)]
    [InlineData(0L, true)]
    public void Gathers_the_stored_rows_in_memory_or_from_a_temporary_file(long budget, bool onDisk)
    {
        const int width = 5;
        ResNet.MLNet.Native.TorchRuntime.EnsureInitialized();
        var batches = new[] { (0, 4), (4, 4), (8, 3) }.Select(b => tensor(Rows(b.Item1, b.Item2, width), [b.Item2, width]));
        string? path;
        using (var cache = FeatureCache.Build(11, batches, budget))
        {
            Assert.Equal(onDisk, cache.OnDisk);
            using var gathered = cache.Gather([10, 0, 7, 7], CPU);
            Assert.Equal([4L, width], gathered.shape);
            Assert.Equal(Rows(10, 1, width).Concat(Rows(0, 1, width)).Concat(Rows(7, 1, width)).Concat(Rows(7, 1, width)), gathered.data<float>().ToArray());
            // Off Windows the file loses its name as soon as it is open, so even a killed process leaves nothing behind.
            path = Directory.GetFiles(Path.GetTempPath(), "resnet-mlnet-features-*.bin").FirstOrDefault();
            Assert.Equal(onDisk && OperatingSystem.IsWindows(), path is not null);
        }
        if (path is not null)
            Assert.False(File.Exists(path), "the temporary file is deleted with the cache");
    }

    [Fact]
    public void A_row_count_that_does_not_match_is_refused()
    {
        ResNet.MLNet.Native.TorchRuntime.EnsureInitialized();
        var error = Assert.Throws<InvalidOperationException>(() => FeatureCache.Build(5, [tensor(Rows(0, 3, 2), [3, 2])], 1 << 20));
        Assert.Contains("Expected features of 5 rows; got 3", error.Message);
    }
}
