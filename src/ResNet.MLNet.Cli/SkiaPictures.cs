using ResNet.MLNet.Data;
using SkiaSharp;

namespace ResNet.MLNet.Cli;

/// <summary>What the CLI's pictures (curves, matrices, grids) share: writing a surface as PNG, and images onto it.</summary>
internal static class SkiaPictures
{
    /// <summary>Writes what was drawn on <paramref name="surface"/> to <paramref name="path"/> as PNG.</summary>
    public static void SavePng(SKSurface surface, string path) => File.WriteAllBytes(path, EncodePng(surface));

    /// <summary>What was drawn on <paramref name="surface"/>, as PNG bytes.</summary>
    public static byte[] EncodePng(SKSurface surface)
    {
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    /// <summary>An image in [0, 1] (grey or RGB) as an opaque bitmap.</summary>
    public static SKBitmap ToBitmap(ImageTensor image)
    {
        var rgb = image.ToRgbBytes();
        var bitmap = new SKBitmap(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var pixels = bitmap.GetPixelSpan();
        for (int i = 0; i < image.Width * image.Height; i++)
        {
            pixels[i * 4] = rgb[i * 3];
            pixels[i * 4 + 1] = rgb[i * 3 + 1];
            pixels[i * 4 + 2] = rgb[i * 3 + 2];
            pixels[i * 4 + 3] = 255;
        }
        return bitmap;
    }
}
