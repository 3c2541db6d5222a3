using ResNet.MLNet.Data;
using ResNet.MLNet.Explain;
using ResNet.MLNet.Models;
using ResNet.MLNet.Pictures;

namespace ResNet.MLNet.Cli.Commands;

/// <summary>
/// <c>--explain FILE.png</c>: the crop the network saw, next to it the same crop under its Grad-CAM heatmap, as one PNG.
/// </summary>
internal static class ExplanationImage
{
    private const int MinSide = 224, Gap = 8;

    /// <summary>Explains the network's prediction (or <paramref name="classIndex"/>) for a decoded image and writes the picture.</summary>
    public static void Write(string outPath, ResNetModel network, ImageModelInput input, ImageTensor decoded, int? classIndex = null)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(outPath));
        if (folder is not null)
            Directory.CreateDirectory(folder);
        File.WriteAllBytes(outPath, Png(network, input, decoded, classIndex));
    }

    /// <summary>The picture as PNG bytes.</summary>
    public static byte[] Png(ResNetModel network, ImageModelInput input, ImageTensor decoded, int? classIndex = null)
    {
        var picture = GradCam.Explain(network, decoded, input, classIndex);
        // Small inputs (32 px CIFAR crops) are enlarged so that the picture is legible.
        int scale = (int)Math.Ceiling((double)MinSide / Math.Min(picture.Seen.Height, picture.Seen.Width));
        var (seen, overlay) = (Enlarge(picture.Seen, scale), Enlarge(picture.Overlay, scale));
        return new Picture(2 * seen.Width + Gap, seen.Height, canvas =>
        {
            using (var left = Ink.Bitmap(seen))
                canvas.DrawBitmap(left, 0, 0);
            using (var right = Ink.Bitmap(overlay))
                canvas.DrawBitmap(right, seen.Width + Gap, 0);
        }).ToPng();
    }

    /// <summary>The image scaled up by an integer factor (bilinear), or itself when the factor is 1 or less.</summary>
    private static ImageTensor Enlarge(ImageTensor image, int scale) =>
        scale <= 1 ? image : image.Resize(image.Height * scale, image.Width * scale);
}
