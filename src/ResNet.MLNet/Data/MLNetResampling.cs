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
    /// ML.NET's resize to <paramref name="size"/> x <paramref name="size"/>: scale to cover and crop the centre (IsoCrop),
    /// or stretch (Fill, nearest neighbour) for <see cref="ImageResizeMode.Stretch"/>. An image already at that size is
    /// returned as it is, as ML.NET's transform does (its cubic filter would soften it).
    /// </summary>
    public static ImageTensor Resize(ImageTensor image, int size, ImageResizeMode mode)
    {
        ArgumentNullException.ThrowIfNull(image);
        return image.Width == size && image.Height == size ? image : Resize(ToBitmap(image), size, mode);
    }

    /// <summary>The same resize of a decoded image: only the resized pixels are converted to float.</summary>
    public static ImageTensor Resize(MLImage image, int size, ImageResizeMode mode)
    {
        ArgumentNullException.ThrowIfNull(image);
        return image.Width == size && image.Height == size ? ImageTensor.FromImage(image) : Resize(ToBitmap(image), size, mode);
    }

    /// <summary>ML.NET's grayscale (0.3 R + 0.59 G + 0.11 B through a Skia colour matrix), as one channel.</summary>
    public static ImageTensor Grayscale(ImageTensor image)
    {
        using var source = ToBitmap(image);
        using var target = new SKBitmap(image.Width, image.Height, isOpaque: true);
        using (var canvas = new SKCanvas(target))
        using (var paint = new SKPaint { ColorFilter = GrayscaleMatrix })
            canvas.DrawBitmap(source, 0f, 0f, paint);
        var rgb = ToTensor(target);
        return new ImageTensor(1, rgb.Height, rgb.Width, rgb.Data[..(rgb.Height * rgb.Width)].ToArray()); // the red plane, as ML.NET extracts it
    }

    private static readonly SKColorFilter GrayscaleMatrix = SKColorFilter.CreateColorMatrix(
    [
        0.3f, 0.59f, 0.11f, 0, 0,
        0.3f, 0.59f, 0.11f, 0, 0,
        0.3f, 0.59f, 0.11f, 0, 0,
        0, 0, 0, 1, 0,
    ]);

    /// <summary>Resizes <paramref name="source"/> (and disposes it) as <see cref="Resize(ImageTensor, int, ImageResizeMode)"/> says.</summary>
    private static ImageTensor Resize(SKBitmap source, int size, ImageResizeMode mode)
    {
        using (source)
        {
            using var target = mode == ImageResizeMode.Stretch
                ? source.Resize(new SKSizeI(size, size), new SKSamplingOptions(SKFilterMode.Nearest))
                    ?? throw new InvalidOperationException($"SkiaSharp could not resize a {source.Width}x{source.Height} image to {size}x{size}.")
                : CenterCropped(source, size, size);
            return ToTensor(target);
        }
    }

    /// <summary>MLImage.ResizeWithCrop with the centre anchor: its float aspect and truncated offsets and sizes, kept as ML.NET writes them.</summary>
    private static SKBitmap CenterCropped(SKBitmap source, int width, int height)
    {
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
        var target = new SKBitmap(width, height, isOpaque: true);
        // The truncations can leave the last row or column unpainted (500x375 to 224 paints 223 rows), which ML.NET
        // leaves as whatever the allocation held; here it is black, so the result is always the same.
        target.Erase(SKColors.Black);
        using var canvas = new SKCanvas(target);
        using var sourceImage = SKImage.FromBitmap(source);
        canvas.DrawImage(sourceImage, new SKRect(0, 0, source.Width, source.Height), new SKRect(destX, destY, destX + destWidth, destY + destHeight),
            new SKSamplingOptions(SKCubicResampler.Mitchell), paint: null);
        return target;
    }

    private static SKBitmap ToBitmap(ImageTensor image) => FromRgb(image.Width, image.Height, image.ToRgbBytes());

    /// <summary>Height x width x 3 RGB bytes, row by row, as an opaque bitmap (the kind described below).</summary>
    /// <exception cref="ArgumentException">The byte count is not width x height x 3.</exception>
    internal static SKBitmap FromRgb(int width, int height, ReadOnlySpan<byte> rgb) =>
        rgb.Length == width * height * 3
            ? ToBitmap(width, height, rgb, rowBytes: 3 * width, pixelBytes: 3, red: 0, blue: 2)
            : throw new ArgumentException($"Expected {width}x{height}x3 bytes; got {rgb.Length}.", nameof(rgb));

    private static SKBitmap ToBitmap(MLImage image)
    {
        var (red, blue) = ImageTensor.ChannelOffsets(image.PixelFormat);
        var pixels = image.Pixels;
        return ToBitmap(image.Width, image.Height, pixels, rowBytes: pixels.Length / image.Height, pixelBytes: 4, red, blue);
    }

    /// <summary>
    /// Pixels as the kind of bitmap ML.NET's transforms create (<c>new SKBitmap(width, height, isOpaque: true)</c>), opaque:
    /// a decoded image's colours are already premultiplied, so its alpha is dropped, as <see cref="ImageTensor.FromImage(MLImage)"/> drops it.
    /// </summary>
    private static SKBitmap ToBitmap(int width, int height, ReadOnlySpan<byte> pixels, int rowBytes, int pixelBytes, int red, int blue)
    {
        var bitmap = new SKBitmap(width, height, isOpaque: true);
        var (toRed, toBlue) = ImageTensor.ChannelOffsets(Format(bitmap));
        var native = new byte[width * height * 4];
        for (int y = 0; y < height; y++)
        {
            var row = pixels.Slice(y * rowBytes, width * pixelBytes);
            for (int x = 0, o = 4 * y * width; x < width; x++, o += 4)
            {
                native[o + toRed] = row[x * pixelBytes + red];
                native[o + 1] = row[x * pixelBytes + 1];
                native[o + toBlue] = row[x * pixelBytes + blue];
                native[o + 3] = 255;
            }
        }
        Marshal.Copy(native, 0, bitmap.GetPixels(), native.Length);
        return bitmap;
    }

    private static ImageTensor ToTensor(SKBitmap bitmap)
    {
        using var image = MLImage.CreateFromPixels(bitmap.Width, bitmap.Height, Format(bitmap), bitmap.GetPixelSpan());
        return ImageTensor.FromImage(image);
    }

    private static MLPixelFormat Format(SKBitmap bitmap) => bitmap.ColorType switch
    {
        SKColorType.Bgra8888 => MLPixelFormat.Bgra32,
        SKColorType.Rgba8888 => MLPixelFormat.Rgba32,
        var other => throw new InvalidOperationException($"SkiaSharp made a {other} bitmap; expected 32-bit BGRA or RGBA."),
    };
}
