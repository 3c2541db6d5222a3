using System.CommandLine;
using ResNet.MLNet.Data;

namespace ResNet.MLNet.Cli.Commands;

/// <summary><c>--max-image-pixels</c>, shared by the commands that read images: the <see cref="ImageLimits"/> they check before decoding.</summary>
internal static class ImageLimitOption
{
    public static Option<long> Create() => new("--max-image-pixels")
    {
        Description = "Refuse images whose header declares more pixels than this, before decoding (default Pillow's 89,478,485).",
        DefaultValueFactory = _ => ImageLimits.DefaultMaxPixels,
    };

    /// <exception cref="ArgumentException">The value is not positive.</exception>
    public static ImageLimits Limits(ParseResult parse, Option<long> option)
    {
        long pixels = parse.GetValue(option);
        if (pixels < 1)
            throw new ArgumentException($"--max-image-pixels must be positive; got {pixels}.");
        return new ImageLimits { MaxPixels = pixels };
    }
}
