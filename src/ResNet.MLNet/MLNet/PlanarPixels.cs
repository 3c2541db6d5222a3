using Microsoft.ML.Data;

namespace ResNet.MLNet;

/// <summary>
/// Writes an image's pixels as planar floats with exactly the values of ML.NET's <c>ExtractPixels</c> as the saved
/// twin configures it (<see cref="ImagePipeline.ExtractPixels"/>: planar, <c>scaleImage</c> 1/255, no offset):
/// <c>byte * (1f / 255)</c>, the red plane, then green, then blue; for one channel, the red byte of an image already
/// converted to grayscale. Alpha is ignored. Checked bit for bit against ML.NET for every byte value
/// (MLNet/PlanarPixelsTests). The in-memory featurizer reads images with it straight into its batch buffer, instead of
/// running ML.NET's per-pixel extractor and copying its vector.
/// </summary>
internal static class PlanarPixels
{
    private const float Scale = 1f / 255;

    /// <exception cref="InvalidDataException">The image is not <paramref name="height"/> x <paramref name="width"/> or not 32-bit BGRA/RGBA.</exception>
    public static void Write(MLImage image, int channels, int height, int width, Span<float> destination)
    {
        if (image.Height != height || image.Width != width)
            throw new InvalidDataException($"Expected a {width}x{height} image after resizing; got {image.Width}x{image.Height}.");
        var (red, blue) = image.PixelFormat switch
        {
            MLPixelFormat.Bgra32 => (2, 0),
            MLPixelFormat.Rgba32 => (0, 2),
            var other => throw new InvalidDataException($"Pixel format {other} is not supported; expected Bgra32 or Rgba32."),
        };
        int plane = height * width;
        var pixels = image.Pixels;
        int stride = pixels.Length / height;
        var r = destination[..plane];
        for (int y = 0; y < height; y++)
        {
            var row = pixels.Slice(y * stride, 4 * width);
            int o = y * width;
            if (channels == 1)
            {
                for (int x = 0; x < width; x++)
                    r[o + x] = row[4 * x + red] * Scale;
                continue;
            }
            var g = destination.Slice(plane, plane);
            var b = destination.Slice(2 * plane, plane);
            for (int x = 0; x < width; x++)
            {
                r[o + x] = row[4 * x + red] * Scale;
                g[o + x] = row[4 * x + 1] * Scale;
                b[o + x] = row[4 * x + blue] * Scale;
            }
        }
    }
}
