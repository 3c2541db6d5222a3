using ResNet.MLNet.Data;
using ResNet.MLNet.Explain;
using SkiaSharp;

namespace ResNet.MLNet.Cli;

/// <summary>
/// The highest-loss images as a grid (fastai's <c>plot_top_losses</c>): each image under its Grad-CAM overlay for the
/// predicted class, captioned with the actual class, the prediction and its probability, and the loss.
/// </summary>
internal static class TopLossesImage
{
    private const int Columns = 4, Pad = 12, Caption = 58;

    /// <param name="path">PNG to write.</param>
    /// <param name="tiles">Overlays (RGB in [0, 1], one size) with the image they show, worst first.</param>
    public static void Save(string path, IReadOnlyList<(ImageTensor Overlay, InterpretedImage Image)> tiles)
    {
        if (tiles.Count == 0)
            return;
        int side = tiles.Max(t => Math.Max(t.Overlay.Width, t.Overlay.Height));
        using var font = new SKFont { Size = 13 };
        using var bold = new SKFont { Size = 15, Embolden = true };
        int columns = Math.Min(Columns, tiles.Count), rows = (tiles.Count + columns - 1) / columns;
        int cellWidth = Math.Max(side, 200) + Pad, cellHeight = side + Caption + Pad;
        using var surface = SKSurface.Create(new SKImageInfo(Pad + columns * cellWidth, 36 + rows * cellHeight));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var wrong = new SKPaint { Color = SKColor.Parse("#c62828"), IsAntialias = true };
        canvas.DrawText("Top losses: actual / predicted (probability) / loss; heatmap: Grad-CAM of the prediction", Pad, 24, SKTextAlign.Left, bold, ink);
        for (int i = 0; i < tiles.Count; i++)
        {
            var (overlay, image) = tiles[i];
            float x = Pad + i % columns * cellWidth, y = 36 + i / columns * cellHeight;
            using (var bitmap = SkiaPictures.ToBitmap(overlay))
                canvas.DrawBitmap(bitmap, x, y);
            float line = y + overlay.Height + 16;
            canvas.DrawText(Fit($"actual: {image.Actual}", font, cellWidth - Pad), x, line, SKTextAlign.Left, font, ink);
            canvas.DrawText(Fit($"predicted: {image.Predicted} ({image.ProbabilityOfPredicted:P0})", font, cellWidth - Pad), x, line + 16, SKTextAlign.Left, font,
                image.Predicted == image.Actual ? ink : wrong);
            canvas.DrawText($"loss {image.Loss:F2}  (p actual {image.ProbabilityOfActual:P1})", x, line + 32, SKTextAlign.Left, font, ink);
        }
        SkiaPictures.SavePng(surface, path);
    }

    /// <summary>Shortens <paramref name="text"/> with an ellipsis to fit <paramref name="width"/> pixels.</summary>
    private static string Fit(string text, SKFont font, float width)
    {
        if (font.MeasureText(text) <= width)
            return text;
        while (text.Length > 1 && font.MeasureText(text + "…") > width)
            text = text[..^1];
        return text + "…";
    }
}
