using Microsoft.ML.Data;
using ResNet.MLNet.Data;
using ResNet.MLNet.Explain;
using ResNet.MLNet.Models;

namespace ResNet.MLNet.Cli.Commands;

/// <summary>
/// <c>--explain FILE.png</c>: the crop the network saw, next to it the same crop under its Grad-CAM heatmap, as one PNG.
/// </summary>
internal static class ExplanationImage
{
    private const int MinSide = 224;

    /// <summary>Explains the network's prediction (or <paramref name="classIndex"/>) for the image and writes the picture.</summary>
    public static GradCamResult Write(string outPath, ResNetModel network, ImageModelInput input, string imagePath, ImageLimits limits, int? classIndex = null)
    {
        var (seen, overlay, cam) = Explain(network, input, imagePath, limits, classIndex);
        // Small inputs (32 px CIFAR crops) are enlarged so that the picture is legible.
        int scale = Math.Max(1, (int)Math.Ceiling((double)MinSide / Math.Min(seen.Height, seen.Width)));
        SaveSideBySide(outPath, Enlarge(seen, scale), Enlarge(overlay, scale));
        return cam;
    }

    /// <summary>The crop the network saw (in [0, 1], before normalization) and the same crop under its Grad-CAM heatmap.</summary>
    public static (ImageTensor Seen, ImageTensor Overlay) Render(ResNetModel network, ImageModelInput input, string imagePath, ImageLimits limits, int? classIndex = null)
    {
        var (seen, overlay, _) = Explain(network, input, imagePath, limits, classIndex);
        return (seen, overlay);
    }

    private static (ImageTensor Seen, ImageTensor Overlay, GradCamResult Cam) Explain(ResNetModel network, ImageModelInput input, string imagePath, ImageLimits limits, int? classIndex)
    {
        var picture = GradCam.Explain(network, ImageTensor.Load(imagePath, limits), input, classIndex);
        return (picture.Seen, picture.Overlay, picture.Cam);
    }

    /// <summary>The image scaled up by an integer factor (bilinear), or itself when the factor is 1.</summary>
    public static ImageTensor Enlarge(ImageTensor image, int scale) =>
        scale == 1 ? image : image.Resize(image.Height * scale, image.Width * scale);

    /// <summary>Two images of one size in [0, 1] (grey or RGB), left and right with a white gap, as RGBA bytes.</summary>
    private static void SaveSideBySide(string path, ImageTensor left, ImageTensor right)
    {
        const int gap = 8;
        int h = left.Height, w = left.Width, width = 2 * w + gap;
        var rgba = new byte[h * width * 4];
        Array.Fill(rgba, (byte)255);
        void Paint(ImageTensor image, int x0)
        {
            var data = image.Data;
            int plane = h * w;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    for (int c = 0; c < 3; c++)
                    {
                        float v = data[(image.Channels == 1 ? 0 : c) * plane + y * w + x];
                        rgba[(y * width + x0 + x) * 4 + c] = (byte)Math.Round(Math.Clamp(v, 0f, 1f) * 255);
                    }
        }
        Paint(left, 0);
        Paint(right, w + gap);
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
            Directory.CreateDirectory(folder);
        using var image = MLImage.CreateFromPixels(width, h, MLPixelFormat.Rgba32, rgba);
        image.Save(path);
    }
}
