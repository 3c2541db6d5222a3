using ResNet.MLNet.Pictures;
using ResNet.MLNet.Training;
using SkiaSharp;

namespace ResNet.MLNet.Tests.Pictures;

public class PicturesTests
{
    [Theory]
    [InlineData(0.165, 0.93, new[] { 0.0, 0.2, 0.4, 0.6, 0.8, 1.0 })]
    [InlineData(16.5, 93, new[] { 0.0, 20, 40, 60, 80, 100 })]
    [InlineData(0.31, 0.36, new[] { 0.31, 0.32, 0.33, 0.34, 0.35, 0.36 })]
    [InlineData(2.0, 2.0, new[] { 1.4, 1.6, 1.8, 2.0, 2.2, 2.4, 2.6 })]
    public void Ticks_are_round_numbers_covering_the_data(double min, double max, double[] expected)
    {
        var ticks = LinePlot.Ticks(min, max);
        Assert.Equal(expected.Length, ticks.Length);
        for (int i = 0; i < ticks.Length; i++)
            Assert.Equal(expected[i], ticks[i], 1e-9);
    }

    [Fact]
    public void Both_series_are_drawn_when_every_epoch_has_held_out_metrics()
    {
        var history = Enumerable.Range(1, 6).Select(e =>
            new EpochMetrics(e, 2.0 / e, 0.5 + 0.05 * e, 2.2 / e, 0.45 + 0.05 * e, 1e-3, 1, 100)).ToList();
        byte[] withTest = TrainingCurves.LossAndAccuracy(history, "resnet18", heldOutLabel: "test").ToPng();
        byte[] trainOnly = TrainingCurves.LossAndAccuracy(history.Select(m => m with { ValidationLoss = null, ValidationAccuracy = null }).ToList(), "resnet18").ToPng();

        Assert.True(OrangePixels(withTest) > 200, "the held-out (orange) series is missing");
        Assert.Equal(0, OrangePixels(trainOnly));
    }

    [Fact]
    public void A_picture_is_the_same_drawing_as_PNG_and_as_SVG()
    {
        var plot = new LinePlot("curve title", "x axis", "y axis",
            [new PlotLine("the line", [1, 2, 3], [3, double.NaN, 1], Ink.Palette[0]), new PlotLine("held out", [1, 2, 3], [2, 2, 2], Ink.Palette[1], Dashed: true)]);
        var picture = plot.ToPicture(400, 300);

        using var bitmap = SKBitmap.Decode(picture.ToPng());
        Assert.Equal((400, 300), (bitmap.Width, bitmap.Height));
        string svg = picture.ToSvg();
        Assert.Contains("width=\"400\" height=\"300\"", svg);
        foreach (string text in new[] { "curve title", "x axis", "y axis", "the line", "held out" })
            Assert.Contains(text, svg);
    }

    [Fact]
    public void The_learning_rate_curve_marks_its_suggestions_and_keeps_the_explosion_off_the_scale()
    {
        double[] rates = Enumerable.Range(0, 50).Select(i => 1e-6 * Math.Pow(10, i / 10.0)).ToArray();
        double[] losses = rates.Select((r, i) => i < 40 ? 2.0 - i * 0.04 : 0.4 + Math.Pow(10, i - 40)).ToArray();
        var finding = new LearningRateFinding(rates, losses, Steepest: rates[20], MinimumOver10: rates[39] / 10, Diverged: true);

        var plot = LearningRateCurve.Plot(finding, "resnet18");
        Assert.True(plot.LogX);
        Assert.True(plot.YCeiling < losses.Max(), "the y axis should stop below the explosion");
        Assert.Equal([rates[20], rates[39]], plot.Marks.Select(m => m.X));
        Assert.Contains("steepest descent", plot.ToPicture(760, 460).ToSvg());
    }

    [Fact]
    public void A_confusion_matrix_needs_a_square_of_counts()
    {
        var picture = ConfusionMatrixPicture.Of(["cat", "dog"], [[3, 1], [0, 4]], "matrix");
        using var bitmap = SKBitmap.Decode(picture.ToPng());
        Assert.Equal((picture.Width, picture.Height), (bitmap.Width, bitmap.Height));
        var error = Assert.Throws<ArgumentException>(() => ConfusionMatrixPicture.Of(["cat", "dog"], [[3, 1]], "matrix"));
        Assert.Contains("2x2", error.Message);
    }

    private static int OrangePixels(byte[] png)
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
