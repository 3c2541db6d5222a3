using ResNet.MLNet.Cli;
using ResNet.MLNet.Tests.TestSupport;
using ResNet.MLNet.Training;
using SkiaSharp;

namespace ResNet.MLNet.Tests.Cli;

public class TrainingCurvesTests
{
    [Theory]
    [InlineData(0.165, 0.93, new[] { 0.0, 0.2, 0.4, 0.6, 0.8, 1.0 })]
    [InlineData(16.5, 93, new[] { 0.0, 20, 40, 60, 80, 100 })]
    [InlineData(0.31, 0.36, new[] { 0.31, 0.32, 0.33, 0.34, 0.35, 0.36 })]
    [InlineData(2.0, 2.0, new[] { 1.4, 1.6, 1.8, 2.0, 2.2, 2.4, 2.6 })]
    public void Ticks_are_round_numbers_covering_the_data(double min, double max, double[] expected)
    {
        var ticks = TrainingCurves.Ticks(min, max);
        Assert.Equal(expected.Length, ticks.Length);
        for (int i = 0; i < ticks.Length; i++)
            Assert.Equal(expected[i], ticks[i], 1e-9);
    }

    [Fact]
    public void Both_series_are_drawn_when_every_epoch_has_held_out_metrics()
    {
        using var dir = new TempDirectory();
        var history = Enumerable.Range(1, 6).Select(e =>
            new EpochMetrics(e, 2.0 / e, 0.5 + 0.05 * e, 2.2 / e, 0.45 + 0.05 * e, 1e-3, 1, 100)).ToList();
        string withTest = Path.Combine(dir.Path, "with-test.png"), trainOnly = Path.Combine(dir.Path, "train-only.png");
        TrainingCurves.Save(withTest, history, "resnet18", heldOutLabel: "test");
        TrainingCurves.Save(trainOnly, history.Select(m => m with { ValidationLoss = null, ValidationAccuracy = null }).ToList(), "resnet18");

        Assert.True(OrangePixels(withTest) > 200, "the held-out (orange) series is missing");
        Assert.Equal(0, OrangePixels(trainOnly));
    }

    private static int OrangePixels(string png)
    {
        using var bitmap = SKBitmap.Decode(png);
        int count = 0;
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++)
            {
                var c = bitmap.GetPixel(x, y);
                if (c.Red > 200 && c.Green is > 90 and < 160 && c.Blue < 60)
                    count++;
            }
        return count;
    }
}
