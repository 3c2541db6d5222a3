namespace ResNet.MLNet.Data;

/// <summary>
/// Limits checked on an image file before it is decoded, from its header alone (see <see cref="ImageHeader"/>), so that a
/// small file claiming a huge canvas (a decompression bomb) fails fast instead of allocating gigabytes.
/// </summary>
public sealed record ImageLimits
{
    /// <summary>
    /// Pillow's <c>Image.MAX_IMAGE_PIXELS</c>: 1024 x 1024 x 1024 / 4 / 3 = 89,478,485 pixels, about 358 MB once decoded
    /// to 32-bit pixels.
    /// </summary>
    public const long DefaultMaxPixels = 1024L * 1024 * 1024 / 4 / 3;

    /// <summary>The defaults: at most <see cref="DefaultMaxPixels"/> pixels.</summary>
    public static ImageLimits Default { get; } = new();

    /// <summary>Largest width x height an image (any frame of an animated GIF) may declare. Default <see cref="DefaultMaxPixels"/>.</summary>
    public long MaxPixels { get; init; } = DefaultMaxPixels;

    /// <summary>Checks the limits, naming the one at fault.</summary>
    /// <exception cref="ArgumentException"><see cref="MaxPixels"/> is not positive.</exception>
    public void Validate()
    {
        if (MaxPixels < 1)
            throw new ArgumentException($"{nameof(MaxPixels)} must be positive; got {MaxPixels}.", nameof(MaxPixels));
    }
}
