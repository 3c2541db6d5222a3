using System.Numerics;
using Microsoft.ML.Data;

namespace ResNet.MLNet.Data;

/// <summary>
/// An image as planar float pixels (channels x height x width, C order), with the operations torchvision applies
/// before a network — resize, centre crop, normalize — computed as torchvision 0.14 / PyTorch compute them on float
/// tensors (<c>torchvision.transforms.functional</c> on a tensor from <c>to_tensor</c>). Every operation returns a new
/// tensor.
/// </summary>
public sealed class ImageTensor
{
    private readonly float[] data;

    /// <summary>Wraps planar pixels; <paramref name="data"/> must hold channels x height x width values and is not copied.</summary>
    /// <exception cref="ArgumentException">A dimension is not positive or the length is wrong.</exception>
    public ImageTensor(int channels, int height, int width, float[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if ((long)channels * height * width != data.Length)
            throw new ArgumentException($"An image of {channels} x {height} x {width} needs {(long)channels * height * width} values; got {data.Length}.", nameof(data));
        Channels = channels;
        Height = height;
        Width = width;
        this.data = data;
    }

    /// <summary>Channels (3 for RGB).</summary>
    public int Channels { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>The pixels, channel after channel, each row after row.</summary>
    public ReadOnlySpan<float> Data => data;

    /// <summary>A copy of the pixels, shaped (channels, height, width) in C order.</summary>
    public float[] ToArray() => (float[])data.Clone();

    /// <summary>The image as a network's input batch of one: a new CPU tensor shaped (1, channels, height, width).</summary>
    internal TorchSharp.torch.Tensor ToBatch() => TorchSharp.torch.tensor(ToArray(), [1, Channels, Height, Width]);

    /// <summary>
    /// Decodes an image file the way ML.NET does (<see cref="MLImage"/>: PNG, JPEG, BMP, GIF, WebP, ...) into RGB
    /// values in [0, 1], like torchvision's <c>to_tensor(PIL.Image.open(path).convert("RGB"))</c>. Grayscale images
    /// give three equal channels. ML.NET decodes transparency premultiplied, so translucent pixels come out composited
    /// over black (PIL's <c>convert("RGB")</c> drops alpha instead); opaque images match PIL exactly for lossless formats.
    /// </summary>
    /// <remarks>
    /// The header is checked first (<see cref="ImageHeader.Check"/>): a file that is not a regular file, is truncated, or
    /// declares more pixels than <paramref name="limits"/> allow is refused before anything is decoded.
    /// </remarks>
    /// <param name="path">The image file.</param>
    /// <param name="limits">Limits checked before decoding; default <see cref="ImageLimits.Default"/>.</param>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not an image ML.NET can decode, or is over the limits; the message names it.</exception>
    public static ImageTensor Load(string path, ImageLimits? limits = null)
    {
        using var image = Decode(path, limits);
        return FromImage(image);
    }

    /// <summary>The decoding of <see cref="Load"/>, with its checks and errors, giving ML.NET's 8-bit image (the caller disposes it).</summary>
    internal static MLImage Decode(string path, ImageLimits? limits)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ImageHeader.Check(path, limits);
        byte[] bytes = File.ReadAllBytes(path); // read errors surface as themselves, not as "not an image"
        try
        {
            return MLImage.CreateFromStream(new MemoryStream(bytes, writable: false));
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new InvalidDataException(
                $"'{Path.GetFullPath(path)}' is not an image ML.NET can decode ({bytes.Length} bytes; expected PNG, JPEG, BMP, GIF or WebP): {UserMessages.Of(e)}", e);
        }
    }

    /// <summary>byte / 255f for every byte: the same floats as the division, looked up.</summary>
    private static readonly float[] UnitBytes = Enumerable.Range(0, 256).Select(b => b / 255f).ToArray();

    /// <summary>The RGB values of a decoded ML.NET image, scaled to [0, 1] (byte / 255, as torchvision's <c>to_tensor</c>).</summary>
    /// <exception cref="ArgumentException">The image's pixel format is neither Bgra32 nor Rgba32.</exception>
    public static ImageTensor FromImage(MLImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return FromImage(image, 0, 0, image.Height, image.Width);
    }

    /// <summary>
    /// The region <paramref name="height"/> x <paramref name="width"/> at (<paramref name="top"/>, <paramref name="left"/>)
    /// of a decoded image, as <see cref="FromImage(MLImage)"/> then <see cref="Crop"/> would give it, converting only the region.
    /// </summary>
    internal static ImageTensor FromImage(MLImage image, int top, int left, int height, int width)
    {
        var (red, blue) = ChannelOffsets(image.PixelFormat);
        if (top < 0 || left < 0 || height < 1 || width < 1 || top + height > image.Height || left + width > image.Width)
            throw new ArgumentOutOfRangeException(nameof(top), $"The region {width}x{height} at ({left}, {top}) is not inside the {image.Width}x{image.Height} image.");
        int plane = width * height;
        var pixels = image.Pixels;
        int stride = pixels.Length / image.Height;
        if (stride < image.Width * 4)
            throw new ArgumentException($"The image holds {pixels.Length} bytes; {image.Width} x {image.Height} pixels need {image.Width * image.Height * 4}.", nameof(image));
        var result = new float[3 * plane];
        for (int y = 0; y < height; y++)
        {
            var row = pixels.Slice((top + y) * stride + left * 4, width * 4);
            int o = y * width;
            for (int x = 0; x < width; x++)
            {
                result[o + x] = UnitBytes[row[4 * x + red]];
                result[plane + o + x] = UnitBytes[row[4 * x + 1]];
                result[2 * plane + o + x] = UnitBytes[row[4 * x + blue]];
            }
        }
        return new ImageTensor(3, height, width, result);
    }

    /// <summary>Byte offsets of red and blue in a 32-bit pixel of <paramref name="format"/> (green is at 1).</summary>
    /// <exception cref="ArgumentException">The format is neither Bgra32 nor Rgba32.</exception>
    internal static (int Red, int Blue) ChannelOffsets(MLPixelFormat format) => format switch
    {
        MLPixelFormat.Bgra32 => (2, 0),
        MLPixelFormat.Rgba32 => (0, 2),
        var other => throw new ArgumentException($"Pixel format {other} is not supported; expected Bgra32 or Rgba32.", nameof(format)),
    };

    /// <summary>
    /// Scales the shorter side to <paramref name="size"/> keeping the aspect ratio (the longer side becomes
    /// <c>floor(size * long / short)</c>), as torchvision's <c>resize(img, size)</c> with an int size; see <see cref="Resize"/>.
    /// </summary>
    public ImageTensor ResizeShorterSide(int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        int shorter = Math.Min(Height, Width), longer = Math.Max(Height, Width);
        int newLonger = (int)((double)size * longer / shorter);
        return Width <= Height ? Resize(newLonger, size) : Resize(size, newLonger);
    }

    /// <summary>
    /// Bilinear resampling with antialiasing, as PyTorch's <c>interpolate(mode="bilinear", align_corners=False,
    /// antialias=True)</c> (which follows Pillow): when shrinking, the triangle filter widens by the scale factor so
    /// every source pixel contributes. Separable: width first, then height; an axis whose size is unchanged is copied.
    /// </summary>
    public ImageTensor Resize(int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var result = this;
        if (width != Width)
            result = result.ResizeAxis(width, horizontal: true);
        if (height != Height)
            result = result.ResizeAxis(height, horizontal: false);
        return ReferenceEquals(result, this) ? new ImageTensor(Channels, Height, Width, ToArray()) : result;
    }

    /// <summary>
    /// The centre <paramref name="height"/> x <paramref name="width"/> region, as torchvision's <c>center_crop</c>:
    /// the offset is <c>round((size - crop) / 2)</c> with ties to even, and a crop larger than the image pads it with zeros first.
    /// </summary>
    public ImageTensor CenterCrop(int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        // torchvision pads (left, top) by (crop - size) // 2 and (right, bottom) by the rest; the crop offset of the
        // padded image is then 0 along a padded axis, so padding amounts to a negative offset.
        int top = height > Height ? -((height - Height) / 2) : (int)Math.Round((Height - height) / 2.0, MidpointRounding.ToEven);
        int left = width > Width ? -((width - Width) / 2) : (int)Math.Round((Width - width) / 2.0, MidpointRounding.ToEven);
        var result = new float[Channels * height * width];
        for (int c = 0; c < Channels; c++)
        {
            for (int y = 0; y < height; y++)
            {
                int sy = y + top;
                if (sy < 0 || sy >= Height)
                    continue;
                int x0 = Math.Max(0, -left), x1 = Math.Min(width, Width - left);
                if (x1 > x0)
                    data.AsSpan((c * Height + sy) * Width + x0 + left, x1 - x0).CopyTo(result.AsSpan((c * height + y) * width + x0));
            }
        }
        return new ImageTensor(Channels, height, width, result);
    }

    /// <summary>The <paramref name="height"/> x <paramref name="width"/> region whose top-left pixel is (<paramref name="top"/>, <paramref name="left"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The region does not lie inside the image.</exception>
    public ImageTensor Crop(int top, int left, int height, int width)
    {
        if (top < 0 || left < 0 || height < 1 || width < 1 || top + height > Height || left + width > Width)
            throw new ArgumentOutOfRangeException(nameof(top), $"The region {width}x{height} at ({left}, {top}) is not inside the {Width}x{Height} image.");
        var result = new float[Channels * height * width];
        for (int c = 0; c < Channels; c++)
            for (int y = 0; y < height; y++)
                data.AsSpan((c * Height + top + y) * Width + left, width).CopyTo(result.AsSpan((c * height + y) * width));
        return new ImageTensor(Channels, height, width, result);
    }

    /// <summary>
    /// The image as interleaved 8-bit RGB (row by row, 3 bytes a pixel), values in [0, 1] scaled to 0..255 and clamped;
    /// a grey image repeats its channel. For writing pictures.
    /// </summary>
    public byte[] ToRgbBytes()
    {
        int plane = Height * Width;
        var rgb = new byte[plane * 3];
        for (int i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++)
                rgb[i * 3 + c] = (byte)Math.Round(Math.Clamp(data[(Channels == 1 ? 0 : c) * plane + i], 0f, 1f) * 255);
        return rgb;
    }

    /// <summary>The mirror image, left and right swapped (torchvision's <c>hflip</c>).</summary>
    public ImageTensor FlipHorizontal()
    {
        var result = (float[])data.Clone();
        for (int row = 0; row < Channels * Height; row++)
            result.AsSpan(row * Width, Width).Reverse();
        return new ImageTensor(Channels, Height, Width, result);
    }

    /// <summary>
    /// torchvision's <c>ColorJitter</c> with the factors drawn: <c>adjust_brightness</c>, <c>adjust_contrast</c> (blend with the
    /// mean grey level of the image), then <c>adjust_saturation</c> (blend with each pixel's grey level; none for one
    /// channel), each clamped to [0, 1].
    /// </summary>
    internal ImageTensor AdjustColors(float brightness, float contrast, float saturation)
    {
        var result = new float[data.Length];
        Blend(data, brightness, 0, result); // torchvision blends with black
        int plane = Height * Width;
        var w = ImageModelInput.Luminance;
        float w0 = w[0], w1 = w[1], w2 = w[2];
        float sum = 0;
        if (Channels == 3)
        {
            for (int i = 0; i < plane; i++)
                sum += w0 * result[i] + w1 * result[plane + i] + w2 * result[2 * plane + i];
        }
        else
        {
            for (int i = 0; i < plane; i++)
                sum += result[i];
        }
        Blend(result, contrast, sum / plane, result);
        if (Channels == 3)
        {
            var gray = new float[plane];
            for (int i = 0; i < plane; i++)
                gray[i] = w0 * result[i] + w1 * result[plane + i] + w2 * result[2 * plane + i];
            for (int c = 0; c < 3; c++)
                Blend(result.AsSpan(c * plane, plane), saturation, gray, result.AsSpan(c * plane, plane));
        }
        return new ImageTensor(Channels, Height, Width, result);
    }

    /// <summary>target = clamp(factor x source + (1 - factor) x other, 0, 1), with a constant <paramref name="other"/>.</summary>
    private static void Blend(ReadOnlySpan<float> source, float factor, float other, Span<float> target)
    {
        float offset = (1 - factor) * other;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<float> f = new(factor), o = new(offset), one = Vector<float>.One;
            for (; i <= source.Length - Vector<float>.Count; i += Vector<float>.Count)
                Vector.Min(Vector.Max(new Vector<float>(source[i..]) * f + o, Vector<float>.Zero), one).CopyTo(target[i..]);
        }
        for (; i < source.Length; i++)
            target[i] = Math.Clamp(factor * source[i] + offset, 0f, 1f);
    }

    /// <summary>target = clamp(factor x source + (1 - factor) x other, 0, 1), element by element.</summary>
    private static void Blend(ReadOnlySpan<float> source, float factor, ReadOnlySpan<float> other, Span<float> target)
    {
        float rest = 1 - factor;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<float> f = new(factor), r = new(rest), one = Vector<float>.One;
            for (; i <= source.Length - Vector<float>.Count; i += Vector<float>.Count)
                Vector.Min(Vector.Max(new Vector<float>(source[i..]) * f + new Vector<float>(other[i..]) * r, Vector<float>.Zero), one).CopyTo(target[i..]);
        }
        for (; i < source.Length; i++)
            target[i] = Math.Clamp(factor * source[i] + rest * other[i], 0f, 1f);
    }

    /// <summary>One luminance channel (ITU-R 601 weights, as torchvision's <c>rgb_to_grayscale</c>); a one-channel image is returned as a copy.</summary>
    public ImageTensor ToGrayscale()
    {
        if (Channels == 1)
            return new ImageTensor(1, Height, Width, ToArray());
        if (Channels != 3)
            throw new InvalidOperationException($"Only RGB images convert to grayscale; this one has {Channels} channels.");
        int plane = Height * Width;
        var result = new float[plane];
        var w = ImageModelInput.Luminance;
        for (int i = 0; i < plane; i++)
            result[i] = w[0] * data[i] + w[1] * data[plane + i] + w[2] * data[2 * plane + i];
        return new ImageTensor(1, Height, Width, result);
    }

    /// <summary>
    /// <c>(x - mean[c]) / std[c]</c> per channel, in float as torchvision's <c>normalize</c>; with one mean per value
    /// (a mean image, planar), <c>(x - mean[i]) / std[c]</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The counts differ from <see cref="Channels"/> or a std is not positive.</exception>
    public ImageTensor Normalize(IReadOnlyList<float> mean, IReadOnlyList<float> std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        int plane = Height * Width;
        bool perPixel = mean.Count == data.Length && mean.Count != Channels;
        if ((mean.Count != Channels && !perPixel) || std.Count != Channels)
            throw new ArgumentException($"Normalization needs one mean (or one per pixel, {data.Length}) and one std per channel ({Channels}); got {mean.Count} and {std.Count}.", nameof(mean));
        if (std.Any(s => !(s > 0)))
            throw new ArgumentException($"Every std must be positive; got {string.Join(", ", std)}.", nameof(std));
        var result = new float[data.Length];
        for (int c = 0; c < Channels; c++)
        {
            float s = std[c];
            var source = data.AsSpan(c * plane, plane);
            var target = result.AsSpan(c * plane, plane);
            if (perPixel)
            {
                for (int i = 0; i < plane; i++)
                    target[i] = (source[i] - mean[c * plane + i]) / s;
                continue;
            }
            float m = mean[c];
            int k = 0;
            if (Vector.IsHardwareAccelerated)
            {
                Vector<float> vm = new(m), vs = new(s);
                for (; k <= plane - Vector<float>.Count; k += Vector<float>.Count)
                    ((new Vector<float>(source[k..]) - vm) / vs).CopyTo(target[k..]);
            }
            for (; k < plane; k++)
                target[k] = (source[k] - m) / s;
        }
        return new ImageTensor(Channels, Height, Width, result);
    }

    /// <summary>
    /// Resamples one axis (the last for <paramref name="horizontal"/>, else the middle one) to <paramref name="size"/>. Rows
    /// are combined whole, a vector of pixels at a time; the width is resampled as the height of the transposed planes.
    /// Each output value is still PyTorch's <c>interpolate_aa_single_dim</c>: float products accumulated in tap order.
    /// </summary>
    private ImageTensor ResizeAxis(int size, bool horizontal)
    {
        if (horizontal)
            return Transposed().ResizeAxis(size, horizontal: false).Transposed();
        var (start, count, weights, taps) = AntialiasWeights(Height, size);
        var result = new float[Channels * size * Width];
        for (int c = 0; c < Channels; c++)
        {
            for (int y = 0; y < size; y++)
            {
                var target = result.AsSpan((c * size + y) * Width, Width);
                int source = (c * Height + start[y]) * Width;
                Scale(data.AsSpan(source, Width), weights[y * taps], target);
                for (int j = 1; j < count[y]; j++)
                    AddScaled(data.AsSpan(source + j * Width, Width), weights[y * taps + j], target);
            }
        }
        return new ImageTensor(Channels, size, Width, result);
    }

    /// <summary>Each plane transposed: channels x width x height.</summary>
    private ImageTensor Transposed()
    {
        var result = new float[data.Length];
        const int block = 32;
        for (int c = 0; c < Channels; c++)
        {
            int plane = c * Height * Width;
            for (int y0 = 0; y0 < Height; y0 += block)
                for (int x0 = 0; x0 < Width; x0 += block)
                    for (int y = y0; y < Math.Min(y0 + block, Height); y++)
                        for (int x = x0; x < Math.Min(x0 + block, Width); x++)
                            result[plane + x * Height + y] = data[plane + y * Width + x];
        }
        return new ImageTensor(Channels, Width, Height, result);
    }

    /// <summary>target = source x weight.</summary>
    private static void Scale(ReadOnlySpan<float> source, float weight, Span<float> target)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var w = new Vector<float>(weight);
            for (; i <= source.Length - Vector<float>.Count; i += Vector<float>.Count)
                (new Vector<float>(source[i..]) * w).CopyTo(target[i..]);
        }
        for (; i < source.Length; i++)
            target[i] = source[i] * weight;
    }

    /// <summary>target += source x weight, a product then a sum (no fused multiply-add, as PyTorch's scalar loop).</summary>
    private static void AddScaled(ReadOnlySpan<float> source, float weight, Span<float> target)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var w = new Vector<float>(weight);
            for (; i <= source.Length - Vector<float>.Count; i += Vector<float>.Count)
                (new Vector<float>(target[i..]) + new Vector<float>(source[i..]) * w).CopyTo(target[i..]);
        }
        for (; i < source.Length; i++)
            target[i] += source[i] * weight;
    }

    /// <summary>
    /// Source window and normalized weights of each output index, as PyTorch's <c>_compute_indices_min_size_weights_aa</c>
    /// for the bilinear (triangle) filter, in its float and double arithmetic.
    /// </summary>
    private static (int[] Start, int[] Count, float[] Weights, int Taps) AntialiasWeights(int inSize, int outSize)
    {
        float scale = (float)inSize / outSize;
        float support = (float)(scale >= 1.0 ? 1.0 * scale : 1.0); // interp_size (2) * 0.5, widened by the scale when shrinking
        float invScale = (float)(scale >= 1.0 ? 1.0 / scale : 1.0);
        int taps = (int)Math.Ceiling(support) * 2 + 1;
        var start = new int[outSize];
        var count = new int[outSize];
        var weights = new float[outSize * taps];
        for (int i = 0; i < outSize; i++)
        {
            float center = (float)(scale * (i + 0.5));
            int xmin = Math.Max((int)(center - support + 0.5), 0);
            int xsize = Math.Clamp(Math.Min((int)(center + support + 0.5), inSize) - xmin, 0, taps);
            float total = 0;
            for (int j = 0; j < xsize; j++)
            {
                float w = Triangle((float)(((float)(j + xmin) - center + 0.5) * invScale));
                weights[i * taps + j] = w;
                total += w;
            }
            if (total != 0)
            {
                for (int j = 0; j < xsize; j++)
                    weights[i * taps + j] /= total;
            }
            start[i] = xmin;
            count[i] = xsize;
        }
        return (start, count, weights, taps);
    }

    private static float Triangle(float x)
    {
        if (x < 0)
            x = -x;
        return x < 1.0 ? (float)(1.0 - x) : 0f;
    }
}
