using System.Text;
using System.Text.RegularExpressions;
using ResNet.MLNet.Data;
using SkiaSharp;

namespace ResNet.MLNet.Pictures;

/// <summary>
/// A picture of the toolkit (a chart, a grid of images, a confusion matrix): its size and how to draw it on a SkiaSharp
/// canvas, written as PNG (the command-line tool's files) or as SVG (notebooks) from the same drawing code. SkiaSharp is
/// the native library ML.NET's image transforms already load.
/// </summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Draw">Draws on a white canvas of that size.</param>
internal sealed partial record Picture(int Width, int Height, Action<SKCanvas> Draw)
{
    /// <summary>The picture as PNG bytes.</summary>
    public byte[] ToPng()
    {
        using var surface = SKSurface.Create(new SKImageInfo(Width, Height))
            ?? throw new InvalidOperationException($"SkiaSharp could not create a {Width}x{Height} drawing surface.");
        surface.Canvas.Clear(SKColors.White);
        Draw(surface.Canvas);
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    /// <summary>
    /// The picture as an SVG document: lines and text as vectors (each glyph placed where SkiaSharp measured it), images
    /// as embedded PNG. Font names get generic fallbacks so that a browser without the drawing machine's fonts keeps a sans-serif face.
    /// </summary>
    public string ToSvg()
    {
        using var bytes = new MemoryStream();
        using (var stream = new SKManagedWStream(bytes))
        using (var canvas = SKSvgCanvas.Create(SKRect.Create(Width, Height), stream))
        {
            canvas.Clear(SKColors.White);
            Draw(canvas);
        }
        return FontFamily().Replace(Encoding.UTF8.GetString(bytes.ToArray()), "font-family=\"$1, Arial, Helvetica, sans-serif\"");
    }

    [GeneratedRegex("font-family=\"([^\"]*)\"")]
    private static partial Regex FontFamily();
}

/// <summary>Fonts, colours and image conversions every picture uses.</summary>
internal static class Ink
{
    private static readonly SKTypeface Sans = SansSerif(SKFontStyle.Normal);
    private static readonly SKTypeface SansBold = SansSerif(SKFontStyle.Bold);

    /// <summary>matplotlib's "tab10" colours, in order.</summary>
    public static readonly SKColor[] Palette = new[] { "1f77b4", "ff7f0e", "2ca02c", "d62728", "9467bd", "8c564b", "e377c2", "7f7f7f", "bcbd22", "17becf" }
        .Select(hex => SKColor.Parse(hex)).ToArray();

    /// <summary>The colour of a wrong prediction's caption.</summary>
    public static readonly SKColor Wrong = SKColor.Parse("c62828");

    /// <summary>matplotlib's viridis map sampled at 17 even steps; <see cref="Viridis"/> interpolates between them.</summary>
    private static readonly SKColor[] ViridisSteps = new[] { "440154", "481769", "472c7a", "423f85", "3b518b", "33628d", "2c718e", "26818e", "21908c",
        "1f9f88", "27ad80", "3dbc73", "5cc862", "81d34c", "aadc31", "d5e219", "fde725" }.Select(hex => SKColor.Parse(hex)).ToArray();

    /// <summary>
    /// The first sans-serif family the machine has (SkiaSharp does not resolve the generic name "sans-serif" on every
    /// platform), else SkiaSharp's default typeface.
    /// </summary>
    private static SKTypeface SansSerif(SKFontStyle style) =>
        new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Noto Sans", "sans-serif" }
            .Select(family => SKFontManager.Default.MatchFamily(family, style)).FirstOrDefault(typeface => typeface is not null)
        ?? SKTypeface.FromFamilyName(null, style) ?? SKTypeface.Default;

    /// <summary>A sans-serif font of <paramref name="size"/> pixels.</summary>
    public static SKFont Font(float size, bool bold = false) => new(bold ? SansBold : Sans, size);

    /// <summary>A solid paint for text and filled shapes.</summary>
    public static SKPaint Fill(SKColor color) => new() { Color = color, IsAntialias = true };

    /// <summary>The viridis colour of <paramref name="t"/> in [0, 1] (dark purple: 0, yellow: 1).</summary>
    public static SKColor Viridis(double t)
    {
        double position = Math.Clamp(double.IsFinite(t) ? t : 0, 0, 1) * (ViridisSteps.Length - 1);
        int i = Math.Min((int)position, ViridisSteps.Length - 2);
        double f = position - i;
        var (a, b) = (ViridisSteps[i], ViridisSteps[i + 1]);
        static byte Mix(byte x, byte y, double f) => (byte)Math.Round(x + (y - x) * f);
        return new SKColor(Mix(a.Red, b.Red, f), Mix(a.Green, b.Green, f), Mix(a.Blue, b.Blue, f));
    }

    /// <summary>An image in [0, 1] (grey or RGB) as an opaque bitmap.</summary>
    public static SKBitmap Bitmap(ImageTensor image) => Bitmap(image.Width, image.Height, image.ToRgbBytes());

    /// <summary>Height x width x 3 RGB bytes, row by row, as an opaque bitmap.</summary>
    public static SKBitmap Bitmap(int width, int height, ReadOnlySpan<byte> rgb) => MLNetResampling.FromRgb(width, height, rgb);

    /// <summary>Shortens <paramref name="text"/> with an ellipsis to fit <paramref name="width"/> pixels.</summary>
    public static string Fit(string text, SKFont font, float width)
    {
        if (font.MeasureText(text) <= width)
            return text;
        while (text.Length > 1 && font.MeasureText(text + "…") > width)
            text = text[..^1];
        return text + "…";
    }
}
