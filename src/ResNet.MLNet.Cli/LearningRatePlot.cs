using System.Globalization;
using ResNet.MLNet.Training;
using SkiaSharp;

namespace ResNet.MLNet.Cli;

/// <summary>The learning-rate finder's curve as a PNG: smoothed loss against the learning rate (log scale), suggestions marked.</summary>
internal static class LearningRatePlot
{
    private const int Width = 760, Height = 460, Left = 70, Right = 24, Top = 84, Bottom = 50;

    public static void Save(string path, LearningRateFinding finding, string title)
    {
        using var surface = SKSurface.Create(new SKImageInfo(Width, Height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        var plot = new SKRect(Left, Top, Width - Right, Height - Bottom);
        var rates = finding.LearningRates;
        var losses = finding.Losses;
        // The y range leaves out the explosion at the end so that the descent stays readable.
        double floor = losses.Min(), ceiling = Math.Min(losses.Max(), losses[0] + 1.5 * (losses[0] - floor) + 1e-9);
        var ticks = TrainingCurves.Ticks(floor, Math.Max(ceiling, floor + 1e-6));
        double yMin = ticks[0], yMax = ticks[^1];
        int firstDecade = (int)Math.Floor(Math.Log10(rates[0])), lastDecade = (int)Math.Ceiling(Math.Log10(rates[^1]));
        float X(double lr) => (float)(plot.Left + (Math.Log10(lr) - firstDecade) / (lastDecade - firstDecade) * plot.Width);
        float Y(double v) => (float)(plot.Bottom - (Math.Clamp(v, yMin, yMax) - yMin) / (yMax - yMin) * plot.Height);

        using var font = new SKFont { Size = 14 };
        using var bold = new SKFont { Size = 15, Embolden = true };
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var grid = new SKPaint { Color = new SKColor(0, 0, 0, 28), StrokeWidth = 1 };
        using var axis = new SKPaint { Color = SKColors.Gray, StrokeWidth = 1 };
        using var line = new SKPaint { Color = SKColor.Parse("#1f77b4"), StrokeWidth = 2.5f, IsAntialias = true, Style = SKPaintStyle.Stroke };
        using var steep = new SKPaint { Color = SKColor.Parse("#d62728"), IsAntialias = true };
        using var minimum = new SKPaint { Color = SKColor.Parse("#2ca02c"), IsAntialias = true };
        canvas.DrawText($"{title}: learning-rate finder", plot.Left, 24, SKTextAlign.Left, bold, ink);
        foreach (double v in ticks)
        {
            canvas.DrawLine(plot.Left, Y(v), plot.Right, Y(v), grid);
            canvas.DrawText(v.ToString("G4", CultureInfo.InvariantCulture), plot.Left - 6, Y(v) + 5, SKTextAlign.Right, font, ink);
        }
        for (int d = firstDecade; d <= lastDecade; d++)
        {
            float x = X(Math.Pow(10, d));
            canvas.DrawLine(x, plot.Top, x, plot.Bottom, grid);
            canvas.DrawText($"1e{d}", x, plot.Bottom + 18, SKTextAlign.Center, font, ink);
        }
        canvas.DrawLine(plot.Left, plot.Bottom, plot.Right, plot.Bottom, axis);
        canvas.DrawLine(plot.Left, plot.Top, plot.Left, plot.Bottom, axis);
        canvas.DrawText("learning rate (log scale)", plot.MidX, Height - 8, SKTextAlign.Center, font, ink);
        canvas.Save();
        canvas.RotateDegrees(-90, 18, plot.MidY);
        canvas.DrawText("loss (smoothed)", 18, plot.MidY, SKTextAlign.Center, font, ink);
        canvas.Restore();

        using var curve = new SKPath();
        for (int i = 0; i < rates.Count; i++)
        {
            var p = new SKPoint(X(rates[i]), Y(losses[i]));
            if (i == 0) curve.MoveTo(p); else curve.LineTo(p);
        }
        canvas.Save();
        canvas.ClipRect(plot);
        canvas.DrawPath(curve, line);
        canvas.Restore();

        void Mark(double lr, SKPaint paint, string label, float row)
        {
            int i = Enumerable.Range(0, rates.Count).MinBy(k => Math.Abs(Math.Log(rates[k]) - Math.Log(lr)));
            canvas.DrawCircle(X(rates[i]), Y(losses[i]), 6, paint);
            canvas.DrawCircle(plot.Left + 8, Top - 42 + row, 5, paint);
            canvas.DrawText(label, plot.Left + 20, Top - 37 + row, SKTextAlign.Left, font, ink);
        }
        Mark(finding.Steepest, steep, $"steepest descent: {finding.Steepest:G2} (suggested)", 0);
        Mark(finding.MinimumOver10 * 10, minimum, $"minimum: {finding.MinimumOver10 * 10:G2} (a tenth of it: {finding.MinimumOver10:G2})", 18);

        SkiaPictures.SavePng(surface, path);
    }
}
