using SkiaSharp;

namespace ResNet.MLNet.Pictures;

/// <summary>
/// A confusion matrix as a heat map: rows are true classes, columns predicted ones, each cell shaded by the fraction of
/// its row (so classes with few images read the same as large ones) and labelled with its count.
/// </summary>
internal static class ConfusionMatrixPicture
{
    private const int Cell = 44, Gap = 12;
    private const string Footer = "cells: images; shade: share of the true class";

    /// <param name="classes">Class names, in the order of the matrix.</param>
    /// <param name="counts">Rows: true class; columns: predicted class.</param>
    /// <param name="heading">Shown above the matrix.</param>
    public static Picture Of(IReadOnlyList<string> classes, IReadOnlyList<IReadOnlyList<int>> counts, string heading)
    {
        int n = classes.Count;
        if (counts.Count != n || counts.Any(row => row.Count != n))
            throw new ArgumentException($"A confusion matrix of {n} classes needs {n}x{n} counts.", nameof(counts));
        using var measure = Ink.Font(13);
        using var measureBold = Ink.Font(15, bold: true);
        float labelWidth = (n == 0 ? 0 : classes.Max(c => measure.MeasureText(c))) + Gap;
        float left = labelWidth + 28, top = 56 + labelWidth;
        int width = (int)Math.Ceiling(new[] { left + n * Cell + 2 * Gap, measureBold.MeasureText(heading) + 2 * Gap, left + measure.MeasureText(Footer) + Gap }.Max());
        int height = (int)(top + n * Cell + 40);
        return new Picture(width, height, canvas =>
        {
            using var font = Ink.Font(13);
            using var bold = Ink.Font(15, bold: true);
            using var ink = Ink.Fill(SKColors.Black);
            using var white = Ink.Fill(SKColors.White);
            using var fill = new SKPaint { IsAntialias = false };
            using var diagonal = new SKPaint { Color = SKColors.Black, Style = SKPaintStyle.Stroke, StrokeWidth = 1.5f };
            canvas.DrawText(heading, Gap, 24, SKTextAlign.Left, bold, ink);
            for (int r = 0; r < n; r++)
            {
                int total = Math.Max(1, counts[r].Sum());
                canvas.DrawText(classes[r], left - Gap, top + r * Cell + Cell / 2f + 5, SKTextAlign.Right, font, ink);
                for (int c = 0; c < n; c++)
                {
                    double share = (double)counts[r][c] / total;
                    var cell = SKRect.Create(left + c * Cell, top + r * Cell, Cell - 1, Cell - 1);
                    fill.Color = Shade(share);
                    canvas.DrawRect(cell, fill);
                    if (r == c)
                        canvas.DrawRect(cell, diagonal);
                    if (counts[r][c] > 0)
                        canvas.DrawText(counts[r][c].ToString(), cell.MidX, cell.MidY + 5, SKTextAlign.Center, font, share > 0.5 ? white : ink);
                }
            }
            for (int c = 0; c < n; c++)
            {
                // Column labels written upwards above the matrix.
                canvas.Save();
                float x = left + c * Cell + Cell / 2f + 5, y = top - Gap;
                canvas.RotateDegrees(-90, x, y);
                canvas.DrawText(classes[c], x, y, SKTextAlign.Left, font, ink);
                canvas.Restore();
            }
            canvas.DrawText("predicted", left + n * Cell / 2f, 44, SKTextAlign.Center, font, ink);
            canvas.Save();
            canvas.RotateDegrees(-90, 16, top + n * Cell / 2f);
            canvas.DrawText("true class", 16, top + n * Cell / 2f, SKTextAlign.Center, font, ink);
            canvas.Restore();
            canvas.DrawText(Footer, left, height - 14, SKTextAlign.Left, font, ink);
        });
    }

    /// <summary>White (0) to a deep blue (1).</summary>
    private static SKColor Shade(double share)
    {
        static byte Mix(int from, int to, double t) => (byte)Math.Round(from + (to - from) * Math.Clamp(t, 0, 1));
        return new SKColor(Mix(247, 8, share), Mix(251, 48, share), Mix(255, 107, share));
    }
}
