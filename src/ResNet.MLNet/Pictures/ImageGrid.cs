using ResNet.MLNet.Data;
using ResNet.MLNet.Explain;
using SkiaSharp;

namespace ResNet.MLNet.Pictures;

/// <summary>One cell of an <see cref="ImageGrid"/>: an RGB image and the caption lines under it.</summary>
/// <param name="Width">Image width in pixels.</param>
/// <param name="Height">Image height in pixels.</param>
/// <param name="Rgb">Height x width x 3 bytes, row by row.</param>
/// <param name="Caption">Lines under the image, each in its colour.</param>
internal sealed record GridTile(int Width, int Height, byte[] Rgb, IReadOnlyList<(string Text, SKColor Color)> Caption);

/// <summary>Images in a grid under a bold title, each scaled to the cell width and captioned (feature maps, top losses).</summary>
internal static class ImageGrid
{
    private const int Gap = 12, Heading = 36, CaptionLine = 16;

    /// <param name="title">Drawn above the grid.</param>
    /// <param name="tiles">The cells, in reading order.</param>
    /// <param name="columns">Cells per row (fewer when there are fewer cells).</param>
    /// <param name="cellWidth">Width each image is scaled to.</param>
    /// <param name="pixelated">Scale without smoothing (feature maps: each value stays a visible square).</param>
    public static Picture Of(string title, IReadOnlyList<GridTile> tiles, int columns, int cellWidth, bool pixelated = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(cellWidth, 1);
        columns = Math.Min(columns, Math.Max(tiles.Count, 1));
        int rows = (tiles.Count + columns - 1) / columns;
        int imageHeight = tiles.Count == 0 ? 0 : tiles.Max(t => Scaled(t, cellWidth));
        int captionHeight = tiles.Count == 0 ? 0 : tiles.Max(t => t.Caption.Count) * CaptionLine + 4;
        int cellHeight = imageHeight + captionHeight + Gap;
        using var bold = Ink.Font(15, bold: true);
        int width = Math.Max(Gap + columns * (cellWidth + Gap), 2 * Gap + (int)Math.Ceiling(bold.MeasureText(title)));
        return new Picture(width, Heading + rows * cellHeight, canvas =>
        {
            using var heading = Ink.Font(15, bold: true);
            using var font = Ink.Font(12);
            using var ink = Ink.Fill(SKColors.Black);
            canvas.DrawText(title, Gap, 24, SKTextAlign.Left, heading, ink);
            for (int i = 0; i < tiles.Count; i++)
            {
                var tile = tiles[i];
                float x = Gap + i % columns * (cellWidth + Gap), y = Heading + i / columns * cellHeight;
                int height = Scaled(tile, cellWidth);
                using (var bitmap = Ink.Bitmap(tile.Width, tile.Height, tile.Rgb))
                using (var image = pixelated ? Enlarged(bitmap, cellWidth, height) : SKImage.FromBitmap(bitmap))
                    canvas.DrawImage(image, SKRect.Create(x, y, cellWidth, height), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
                for (int line = 0; line < tile.Caption.Count; line++)
                {
                    using var paint = Ink.Fill(tile.Caption[line].Color);
                    canvas.DrawText(Ink.Fit(tile.Caption[line].Text, font, cellWidth), x, y + height + 14 + line * CaptionLine, SKTextAlign.Left, font, paint);
                }
            }
        });
    }

    /// <summary>
    /// fastai's <c>plot_top_losses</c>: each image under its Grad-CAM overlay for the predicted class, captioned with the
    /// actual class, the prediction and its probability (red when wrong), and the loss.
    /// </summary>
    /// <param name="tiles">Overlays (RGB in [0, 1]) with the image they show, worst first.</param>
    /// <param name="columns">Images per row.</param>
    /// <param name="cellWidth">Width of each picture in pixels.</param>
    public static Picture TopLosses(IReadOnlyList<(ImageTensor Overlay, InterpretedImage Image)> tiles, int columns, int cellWidth) =>
        Of("Top losses: actual / predicted (probability) / loss; heatmap: Grad-CAM of the prediction",
            tiles.Select(t => new GridTile(t.Overlay.Width, t.Overlay.Height, t.Overlay.ToRgbBytes(),
            [
                ($"actual: {t.Image.Actual}", SKColors.Black),
                ($"predicted: {t.Image.Predicted} ({t.Image.ProbabilityOfPredicted:P0})", t.Image.Predicted == t.Image.Actual ? SKColors.Black : Ink.Wrong),
                ($"loss {t.Image.Loss:F2} (p actual {t.Image.ProbabilityOfActual:P1})", SKColors.Black),
            ])).ToList(), columns, cellWidth);

    private static int Scaled(GridTile tile, int cellWidth) => Math.Max(1, (int)Math.Round((double)cellWidth * tile.Height / tile.Width));

    /// <summary>
    /// The bitmap enlarged without smoothing to the size it is drawn at, so that it stays blocky in a PNG and in an SVG
    /// alike (a browser would smooth a small embedded image when it scales it).
    /// </summary>
    private static SKImage Enlarged(SKBitmap bitmap, int width, int height)
    {
        using var large = bitmap.Resize(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque), new SKSamplingOptions(SKFilterMode.Nearest));
        return SKImage.FromPixelCopy(large.PeekPixels());
    }
}
