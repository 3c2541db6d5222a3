using Microsoft.ML;
using ResNet.MLNet.Data;
using ResNet.MLNet.Training;

namespace ResNet.MLNet;

/// <summary>Decodes an image-classification folder into memory for <see cref="ResNetTrainer"/>.</summary>
public static class ImageFolderDataset
{
    /// <summary>
    /// Decodes every image of <paramref name="folder"/> (class folders, or <see cref="ImageFolderOptions.Split"/>
    /// sub-folders) with ML.NET's image transforms, stretched to <paramref name="size"/> pixels square and kept as bytes
    /// with <paramref name="channels"/> channels (1: grayscale, 3: RGB). Classes are the class folders in ordinal order,
    /// as <see cref="ImageFolder.List"/> gives them.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <param name="folder">The image folder.</param>
    /// <param name="size">Side of the square the images are stretched to.</param>
    /// <param name="channels">1 (grayscale) or 3 (RGB).</param>
    /// <param name="options">Extensions and split.</param>
    /// <param name="limits">Limits checked on every file's header before any is decoded; default <see cref="ImageLimits.Default"/>.</param>
    /// <exception cref="InvalidDataException">The folder holds no images, or images cannot be decoded or are over the limits (every such file is named).</exception>
    public static InMemoryImageDataset Load(string folder, int size, int channels = 3, ImageFolderOptions? options = null, ImageLimits? limits = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        if (channels is not (1 or 3))
            throw new ArgumentException($"Images load with 1 or 3 channels; got {channels}.", nameof(channels));
        var entries = ImageFolder.List(folder, options);
        var classes = entries.Select(e => e.Label).Distinct().ToList();
        var ml = new MLContext(seed: 0);
        var listed = ml.Data.LoadImageRows(entries);
        var images = ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: "ImagePath").Fit(listed).Transform(listed);
        var input = new ImageModelInput { Channels = channels, ImageSize = size, ResizeMode = ImageResizeMode.Stretch }.WithChannels(channels);
        return ClassifierData.Load(ml.Transforms, images, "Image", "Label", classes, input, "ImagePath", "image folder", limits ?? ImageLimits.Default);
    }
}
