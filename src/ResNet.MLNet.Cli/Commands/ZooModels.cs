using ResNet.MLNet.Models;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Cli.Commands;

/// <summary>Builds a network of the zoo for a command from <c>--arch</c> and/or <c>--weights</c> (a file or a registry name).</summary>
internal static class ZooModels
{
    /// <summary>A network's input when its weights describe none: torchvision's ImageNet evaluation (256, crop 224), or 32 pixels for CIFAR nets.</summary>
    public static ImageModelInput DefaultInput(ResNetOptions options) =>
        options.Stem == StemKind.Cifar ? new ImageModelInput { ImageSize = 32 } : ImageModelInput.ImageNet;

    /// <summary>
    /// Builds the network: the architecture of <paramref name="arch"/>, else the weights' own; the class count of
    /// <paramref name="numClasses"/>, else the weights', else the architecture's; the weights loaded with
    /// <paramref name="loadOptions"/>. The input is the weights' (registry entry or file metadata), else <see cref="DefaultInput"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown architecture or weights name (the closest names listed), no architecture at all, or weights of another architecture.</exception>
    /// <exception cref="WeightsMismatchException">A strict load found keys or shapes that do not fit; the message is the loading report.</exception>
    public static NetworkSetup Build(string? arch, string? weights, int? numClasses, WeightsLoadOptions loadOptions, TextWriter? progress = null)
    {
        var architecture = arch is null ? null : ResNetModels.Options(arch);
        if (arch is null && weights is null)
            throw new ArgumentException("Name the network with --arch, or give --weights that record their architecture.");
        return NetworkSetup.Create(architecture, null, weights, null, null, numClasses, seed: 0, defaultArchitecture: null,
            DefaultInput, loadOptions, Resolve(progress));
    }

    /// <summary>
    /// The weights a finetune run wrote beside its model: <c>weights.safetensors</c> in the folder of
    /// <paramref name="modelOrRunFolder"/> (model.zip or the run folder itself). The path is returned whether or not it exists.
    /// </summary>
    public static string RunWeights(string modelOrRunFolder)
    {
        string full = Path.GetFullPath(modelOrRunFolder);
        return Path.Combine(File.Exists(full) ? Path.GetDirectoryName(full)! : full, "weights.safetensors");
    }

    /// <summary>The index of class <paramref name="label"/> in the input's class names; null when it names none or is not among them.</summary>
    public static int? ClassIndex(ImageModelInput input, string label) =>
        input.ClassNames?.ToList().IndexOf(label) is int i and >= 0 ? i : null;

    /// <summary>Download settings for commands: progress (percent) on <paramref name="progress"/> when a registry file is fetched.</summary>
    public static WeightsResolveOptions Resolve(TextWriter? progress) => new() { Progress = progress is null ? null : new DownloadReporter(progress) };

    /// <summary>One line per 10% of a download (progress goes to stderr, which may be a file).</summary>
    private sealed class DownloadReporter(TextWriter writer) : IProgress<WeightsDownloadProgress>
    {
        private int lastTenth = -1;

        public void Report(WeightsDownloadProgress value)
        {
            if (value.TotalBytes is not long total || total <= 0)
                return;
            int percent = (int)(100 * value.BytesReceived / total);
            if (percent / 10 == lastTenth)
                return;
            lastTenth = percent / 10;
            writer.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"downloading: {percent}% of {total / 1e6:F1} MB"));
        }
    }
}
