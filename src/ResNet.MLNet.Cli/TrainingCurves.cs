using ResNet.MLNet.Training;
using SkiaSharp;

namespace ResNet.MLNet.Cli;

/// <summary>
/// Draws loss (left panel) and accuracy (right panel) per epoch, training solid and validation dashed, as a PNG.
/// Drawn with the SkiaSharp that ML.NET's image transforms load: ScottPlot 5 needs SkiaSharp 3, which breaks
/// ML.NET 5's MLImage (SKBitmap.GetPixelSpan is gone) in the same process.
/// </summary>
internal static class TrainingCurves
{
    private const int Width = 1000, Height = 450, Margin = 55;

    public static void Save(string path, IReadOnlyList<EpochMetrics> history, string title)
    {
        if (history.Count == 0)
            return;
        using var surface = SKSurface.Create(new SKImageInfo(Width, Height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        bool validation = history.All(e => e.ValidationLoss is not null);
        var train = SKColor.Parse("#1f77b4");
        var valid = SKColor.Parse("#ff7f0e");
        Panel(canvas, new SKRect(0, 0, Width / 2f, Height), $"{title}: loss", history,
            [(history.Select(e => e.TrainLoss).ToArray(), "train", train), .. validation ? new[] { (history.Select(e => e.ValidationLoss!.Value).ToArray(), "validation", valid) } : []]);
        Panel(canvas, new SKRect(Width / 2f, 0, Width, Height), $"{title}: accuracy", history,
            [(history.Select(e => e.TrainAccuracy).ToArray(), "train", train), .. validation ? new[] { (history.Select(e => e.ValidationAccuracy!.Value).ToArray(), "validation", valid) } : []]);
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        png.SaveTo(file);
    }

    private static void Panel(SKCanvas canvas, SKRect area, string title, IReadOnlyList<EpochMetrics> history, (double[] Values, string Label, SKColor Color)[] series)
    {
        var plot = new SKRect(area.Left + Margin, area.Top + 40, area.Right - 20, area.Bottom - 40);
        double min = series.Min(s => s.Values.Min()), max = series.Max(s => s.Values.Max());
        if (max - min < 1e-9)
            (min, max) = (min - 0.5, max + 0.5);
        int first = history[0].Epoch, last = history[^1].Epoch;
        float X(int epoch) => last == first ? plot.MidX : plot.Left + (epoch - first) * plot.Width / (last - first);
        float Y(double v) => (float)(plot.Bottom - (v - min) / (max - min) * plot.Height);

        using var text = new SKPaint { Color = SKColors.Black, TextSize = 14, IsAntialias = true };
        using var axis = new SKPaint { Color = SKColors.Gray, StrokeWidth = 1, IsAntialias = true };
        canvas.DrawText(title, plot.Left, area.Top + 24, text);
        canvas.DrawLine(plot.Left, plot.Bottom, plot.Right, plot.Bottom, axis);
        canvas.DrawLine(plot.Left, plot.Top, plot.Left, plot.Bottom, axis);
        for (int i = 0; i <= 4; i++)
        {
            double v = min + (max - min) * i / 4;
            canvas.DrawText(v.ToString("G3"), area.Left + 4, Y(v) + 5, text);
        }
        foreach (var e in history.Where((_, i) => history.Count <= 10 || i % (history.Count / 10 + 1) == 0 || i == history.Count - 1))
            canvas.DrawText(e.Epoch.ToString(), X(e.Epoch) - 4, plot.Bottom + 18, text);
        canvas.DrawText("epoch", plot.MidX - 20, area.Bottom - 6, text);

        for (int s = 0; s < series.Length; s++)
        {
            var (values, label, color) = series[s];
            using var pen = new SKPaint { Color = color, StrokeWidth = 2.5f, IsAntialias = true, Style = SKPaintStyle.Stroke,
                PathEffect = s == 0 ? null : SKPathEffect.CreateDash([8, 5], 0) };
            using var dot = new SKPaint { Color = color, IsAntialias = true };
            using var pathLine = new SKPath();
            for (int i = 0; i < values.Length; i++)
            {
                var point = new SKPoint(X(history[i].Epoch), Y(values[i]));
                if (i == 0) pathLine.MoveTo(point); else pathLine.LineTo(point);
                canvas.DrawCircle(point, 3, dot);
            }
            canvas.DrawPath(pathLine, pen);
            canvas.DrawLine(plot.Right - 120, plot.Top + 10 + s * 20, plot.Right - 95, plot.Top + 10 + s * 20, pen);
            canvas.DrawText(label, plot.Right - 90, plot.Top + 15 + s * 20, text);
        }
    }
}
