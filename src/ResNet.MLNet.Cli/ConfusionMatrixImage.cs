using SkiaSharp;

namespace ResNet.MLNet.Cli;

/// <summary>
/// Draws a confusion matrix as a PNG heat map: rows are true classes, columns predicted ones, each cell shaded by the
/// fraction of its row (so classes with few images read the same as large ones) and labelled with its count.
/// </summary>
internal static class ConfusionMatrixImage
{
    private const int Cell = 44, Gap = 12;

    /// <param name="path">PNG to write.</param>
    /// <param name="classes">Class names, in the order of the matrix.</param>
    /// <param name="counts">Rows: true class; columns: predicted class.</param>
    /// <param name="heading">Shown above the matrix.</param>
    public static void Save(string path, IReadOnlyList<string> classes, IReadOnlyList<IReadOnlyList<int>> counts, string heading)
    {
        int n = classes.Count;
        using var font = new SKFont { Size = 13 };
        using var bold = new SKFont { Size = 15, Embolden = true };
        float labelWidth = classes.Max(c => font.MeasureText(c)) + Gap;
        float left = labelWidth + 28, top = 56 + labelWidth;
        int width = (int)Math.Max(left + n * Cell + 2 * Gap, bold.MeasureText(heading) + 2 * Gap), height = (int)(top + n * Cell + 40);

        using var surface = SKSurface.Create(new SKImageInfo(width, height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var white = new SKPaint { Color = SKColors.White, IsAntialias = true };
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
        canvas.DrawText("cells: images; shade: share of the true class", left, height - 14, SKTextAlign.Left, font, ink);

        SkiaPictures.SavePng(surface, path);
    }

    /// <summary>White (0) to a deep blue (1).</summary>
    private static SKColor Shade(double share)
    {
        static byte Mix(int from, int to, double t) => (byte)Math.Round(from + (to - from) * Math.Clamp(t, 0, 1));
        return new SKColor(Mix(247, 8, share), Mix(251, 48, share), Mix(255, 107, share));
    }
}
