using System.Runtime.InteropServices;
using Microsoft.ML.Data;
using SkiaSharp;

namespace ResNet.MLNet.Data;

/// <summary>
/// ML.NET's image resizing and grayscale conversion (<c>ResizeImages</c> with <c>IsoCrop</c>/<c>Fill</c> and a centre
/// anchor, <c>ConvertToGrayscale</c>), computed with the same SkiaSharp calls and the same geometry as
/// Microsoft.ML.ImageAnalytics, so an image preprocessed here has exactly the pixels ML.NET's transforms give it — the
/// pixels of every saved plain-ML.NET model. Images are taken as opaque (a translucent image was already composited over
/// black when ML.NET decoded it).
/// </summary>
internal static class MLNetResampling
{
    /// <summary>
    /// Scales the image so that it covers <paramref name="width"/> x <paramref name="height"/> and crops the centre
    /// (ML.NET's IsoCrop). An image already at that size is returned as it is, as ML.NET's transform does (its cubic
    /// filter would soften it).
    /// </summary>
    public static ImageTensor ResizeWithCrop(ImageTensor image, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Width == width && image.Height == height)
            return image;
        using var source = ToBitmap(image);
        // The arithmetic of MLImage.ResizeWithCrop (float aspect, truncated offsets and sizes), kept as ML.NET writes it.
        float widthAspect = (float)width / source.Width;
        float heightAspect = (float)height / source.Height;
        int destX = 0, destY = 0;
        float aspect;
        if (heightAspect < widthAspect)
        {
            aspect = widthAspect;
            destY = (int)((height - (source.Height * aspect)) / 2);
        }
        else
        {
            aspect = heightAspect;
            destX = (int)((width - (source.Width * aspect)) / 2);
        }
        int destWidth = (int)(source.Width * aspect);
        int destHeight = (int)(source.Height * aspect);
        using var target = new SKBitmap(width, height, isOpaque: true);
        // The truncations can leave the last row or column unpainted (500x375 to 224 paints 223 rows), which ML.NET
        // leaves as whatever the allocation held; here it is black, so the result is always the same.
        target.Erase(SKColors.Black);
        using (var canvas = new SKCanvas(target))
        using (var sourceImage = SKImage.FromBitmap(source))
        {
            canvas.DrawImage(sourceImage, new SKRect(0, 0, source.Width, source.Height), new SKRect(destX, destY, destX + destWidth, destY + destHeight),
                new SKSamplingOptions(SKCubicResampler.Mitchell), paint: null);
        }
        return FromBitmap(target);
    }

    /// <summary>Stretches the image to <paramref name="width"/> x <paramref name="height"/> (ML.NET's Fill: nearest neighbour); one at that size is returned as it is.</summary>
    public static ImageTensor Stretch(ImageTensor image, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Width == width && image.Height == height)
            return image;
        using var source = ToBitmap(image);
        using var target = source.Resize(new SKSizeI(width, height), new SKSamplingOptions(SKFilterMode.Nearest))
            ?? throw new InvalidOperationException($"SkiaSharp could not resize a {image.Width}x{image.Height} image to {width}x{height}.");
        return FromBitmap(target);
    }

    /// <summary>ML.NET's grayscale (0.3 R + 0.59 G + 0.11 B through a Skia colour matrix), as one channel.</summary>
    public static ImageTensor Grayscale(ImageTensor image)
    {
        using var source = ToBitmap(image);
        using var target = new SKBitmap(image.Width, image.Height, isOpaque: true);
        using (var canvas = new SKCanvas(target))
        using (var paint = new SKPaint { ColorFilter = GrayscaleMatrix })
            canvas.DrawBitmap(source, 0f, 0f, paint);
        var rgb = FromBitmap(target);
        return new ImageTensor(1, rgb.Height, rgb.Width, rgb.Data[..(rgb.Height * rgb.Width)].ToArray()); // the red plane, as ML.NET extracts it
    }

    private static readonly SKColorFilter GrayscaleMatrix = SKColorFilter.CreateColorMatrix(
    [
        0.3f, 0.59f, 0.11f, 0, 0,
        0.3f, 0.59f, 0.11f, 0, 0,
        0.3f, 0.59f, 0.11f, 0, 0,
        0, 0, 0, 1, 0,
    ]);

    /// <summary>The image as the kind of bitmap ML.NET's transforms create (<c>new SKBitmap(width, height, isOpaque: true)</c>).</summary>
    private static SKBitmap ToBitmap(ImageTensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var bitmap = new SKBitmap(image.Width, image.Height, isOpaque: true);
        var (red, blue) = bitmap.ColorType switch
        {
            SKColorType.Bgra8888 => (2, 0),
            SKColorType.Rgba8888 => (0, 2),
            var other => throw new InvalidOperationException($"SkiaSharp created a {other} bitmap; expected 32-bit BGRA or RGBA."),
        };
        byte[] rgb = image.ToRgbBytes();
        int pixels = image.Height * image.Width;
        var native = new byte[pixels * 4];
        for (int i = 0; i < pixels; i++)
        {
            native[4 * i + red] = rgb[3 * i];
            native[4 * i + 1] = rgb[3 * i + 1];
            native[4 * i + blue] = rgb[3 * i + 2];
            native[4 * i + 3] = 255;
        }
        Marshal.Copy(native, 0, bitmap.GetPixels(), native.Length);
        return bitmap;
    }

    private static ImageTensor FromBitmap(SKBitmap bitmap)
    {
        var format = bitmap.ColorType switch
        {
            SKColorType.Bgra8888 => MLPixelFormat.Bgra32,
            SKColorType.Rgba8888 => MLPixelFormat.Rgba32,
            var other => throw new InvalidOperationException($"SkiaSharp produced a {other} bitmap; expected 32-bit BGRA or RGBA."),
        };
        using var image = MLImage.CreateFromPixels(bitmap.Width, bitmap.Height, format, bitmap.GetPixelSpan());
        return ImageTensor.FromImage(image);
    }
}
