using ResNet.MLNet.Training;
using SkiaSharp;

namespace ResNet.MLNet.Cli;

/// <summary>
/// Draws loss (left panel) and accuracy in percent (right panel) per epoch as a PNG: training solid, the held-out
/// split dashed, round-number ticks with a light grid, and the legend above the plot so it never covers a line.
/// Drawn with the SkiaSharp that ML.NET's image transforms load, so both share one native library.
/// </summary>
internal static class TrainingCurves
{
    private const int Width = 1000, Height = 460, Left = 62, Right = 24, Top = 62, Bottom = 44;
    private static readonly SKColor TrainColor = SKColor.Parse("#1f77b4"), HeldOutColor = SKColor.Parse("#ff7f0e");

    /// <param name="path">PNG to write.</param>
    /// <param name="history">Metrics per epoch; nothing is written when empty.</param>
    /// <param name="title">Shown above each panel (the architecture).</param>
    /// <param name="heldOutLabel">Name of the held-out series ("validation", "test"), drawn when every epoch has it.</param>
    public static void Save(string path, IReadOnlyList<EpochMetrics> history, string title, string heldOutLabel = "validation")
    {
        if (history.Count == 0)
            return;
        using var surface = SKSurface.Create(new SKImageInfo(Width, Height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        bool heldOut = history.All(e => e.ValidationLoss is not null && e.ValidationAccuracy is not null);
        Series[] Pick(Func<EpochMetrics, double> train, Func<EpochMetrics, double> held) =>
            [new(history.Select(train).ToArray(), "train", TrainColor), .. heldOut ? [new Series(history.Select(held).ToArray(), heldOutLabel, HeldOutColor)] : Array.Empty<Series>()];
        Panel(canvas, new SKRect(0, 0, Width / 2f, Height), $"{title}: loss", "loss", history,
            Pick(e => e.TrainLoss, e => e.ValidationLoss!.Value));
        Panel(canvas, new SKRect(Width / 2f, 0, Width, Height), $"{title}: accuracy", "accuracy (%)", history,
            Pick(e => 100 * e.TrainAccuracy, e => 100 * e.ValidationAccuracy!.Value));
        SkiaPictures.SavePng(surface, path);
    }

    private sealed record Series(double[] Values, string Label, SKColor Color);

    private static void Panel(SKCanvas canvas, SKRect area, string title, string yLabel, IReadOnlyList<EpochMetrics> history, Series[] series)
    {
        var plot = new SKRect(area.Left + Left, area.Top + Top, area.Right - Right, area.Bottom - Bottom);
        var ticks = Ticks(series.Min(s => s.Values.Min()), series.Max(s => s.Values.Max()));
        double min = ticks[0], max = ticks[^1];
        int first = history[0].Epoch, last = history[^1].Epoch;
        float X(int epoch) => last == first ? plot.MidX : plot.Left + (epoch - first) * plot.Width / (last - first);
        float Y(double v) => (float)(plot.Bottom - (v - min) / (max - min) * plot.Height);

        using var font = new SKFont { Size = 14 };
        using var bold = new SKFont { Size = 15, Embolden = true };
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var axis = new SKPaint { Color = SKColors.Gray, StrokeWidth = 1, IsAntialias = true };
        using var grid = new SKPaint { Color = new SKColor(0, 0, 0, 28), StrokeWidth = 1 };
        canvas.DrawText(title, plot.Left, area.Top + 22, SKTextAlign.Left, bold, ink);
        foreach (double v in ticks)
        {
            canvas.DrawLine(plot.Left, Y(v), plot.Right, Y(v), grid);
            canvas.DrawText(Format(v, ticks), plot.Left - 6, Y(v) + 5, SKTextAlign.Right, font, ink);
        }
        int step = Math.Max(1, (int)Math.Ceiling((last - first + 1) / 10.0));
        foreach (var e in history.Where(e => (e.Epoch - first) % step == 0 || e.Epoch == last))
            canvas.DrawText(e.Epoch.ToString(), X(e.Epoch), plot.Bottom + 18, SKTextAlign.Center, font, ink);
        canvas.DrawLine(plot.Left, plot.Bottom, plot.Right, plot.Bottom, axis);
        canvas.DrawLine(plot.Left, plot.Top, plot.Left, plot.Bottom, axis);
        canvas.DrawText("epoch", plot.MidX, area.Bottom - 6, SKTextAlign.Center, font, ink);
        canvas.Save();
        canvas.RotateDegrees(-90, area.Left + 16, plot.MidY);
        canvas.DrawText(yLabel, area.Left + 16, plot.MidY, SKTextAlign.Center, font, ink);
        canvas.Restore();

        float legendX = plot.Left;
        for (int s = 0; s < series.Length; s++)
        {
            var (values, label, color) = (series[s].Values, series[s].Label, series[s].Color);
            using var pen = new SKPaint
            {
                Color = color, StrokeWidth = 2.5f, IsAntialias = true, Style = SKPaintStyle.Stroke,
                PathEffect = s == 0 ? null : SKPathEffect.CreateDash([8, 5], 0),
            };
            using var dot = new SKPaint { Color = color, IsAntialias = true };
            using var line = new SKPath();
            for (int i = 0; i < values.Length; i++)
            {
                var point = new SKPoint(X(history[i].Epoch), Y(values[i]));
                if (i == 0) line.MoveTo(point); else line.LineTo(point);
                canvas.DrawCircle(point, 3, dot);
            }
            canvas.DrawPath(line, pen);
            // Legend in the band between title and plot: it cannot hide a data point.
            float legendY = area.Top + 44;
            canvas.DrawLine(legendX, legendY - 5, legendX + 26, legendY - 5, pen);
            canvas.DrawText(label, legendX + 32, legendY, SKTextAlign.Left, font, ink);
            legendX += 32 + font.MeasureText(label) + 24;
        }
    }

    /// <summary>About five round-number ticks (1, 2 or 5 times a power of ten) covering [min, max].</summary>
    internal static double[] Ticks(double min, double max)
    {
        if (!(max - min > 1e-12))
            (min, max) = (min - 0.5, max + 0.5);
        double raw = (max - min) / 5, power = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2, 5, 10 }.Select(m => m * power).First(s => s >= raw);
        double start = Math.Floor(min / step + 1e-9) * step, end = Math.Ceiling(max / step - 1e-9) * step;
        int count = (int)Math.Round((end - start) / step);
        return Enumerable.Range(0, count + 1).Select(i => Math.Round(start + i * step, 12)).ToArray();
    }

    private static string Format(double value, double[] ticks)
    {
        double step = ticks.Length > 1 ? ticks[1] - ticks[0] : 1;
        int decimals = Math.Max(0, -(int)Math.Floor(Math.Log10(step) + 1e-9));
        return value.ToString("F" + decimals, System.Globalization.CultureInfo.InvariantCulture);
    }
}
