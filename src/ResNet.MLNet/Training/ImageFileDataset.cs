using Microsoft.ML.Data;
using ResNet.MLNet.Data;

namespace ResNet.MLNet.Training;

/// <summary>
/// Labeled image files, decoded batch by batch while training: N worker threads decode and augment the next batches
/// while the current one trains (see <see cref="TrainingOptions.DecodeWorkers"/>), so memory does not depend on the
/// number of images, and random-resized crops are taken from the original images, as torchvision does. Each file's
/// header is checked against the limits when it is read; a file that fails (deleted, truncated, corrupt, too large)
/// stops training with an error naming it.
/// </summary>
public sealed class ImageFileDataset : ImageDataset
{
    private readonly string[] paths;

    /// <summary>Image files and their labels.</summary>
    /// <param name="paths">One image file per row.</param>
    /// <param name="labels">One class index per row, in [0, <paramref name="classNames"/>.Count).</param>
    /// <param name="classNames">The class names, by class index.</param>
    /// <param name="limits">Limits checked on each file's header before it is decoded; default <see cref="ImageLimits.Default"/>.</param>
    /// <exception cref="ArgumentException">The counts differ, a path is empty, a label is out of range, or there are no classes.</exception>
    public ImageFileDataset(IReadOnlyList<string> paths, long[] labels, IReadOnlyList<string> classNames, ImageLimits? limits = null)
        : base(labels, classNames)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (paths.Count != labels.Length)
            throw new ArgumentException($"There are {paths.Count} paths but {labels.Length} labels.", nameof(labels));
        for (int i = 0; i < paths.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(paths[i]))
                throw new ArgumentException($"Path {i} is empty.", nameof(paths));
        }
        this.paths = paths.Select(Path.GetFullPath).ToArray();
        Limits = limits ?? ImageLimits.Default;
        Limits.Validate();
    }

    /// <summary>
    /// The images of an image folder (class folders, or <see cref="ImageFolderOptions.Split"/> sub-folders), classes in
    /// ordinal order as <see cref="ImageFolder.List"/> gives them. Nothing is decoded here.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">The folder holds no images.</exception>
    public static ImageFileDataset FromFolder(string folder, ImageFolderOptions? options = null, ImageLimits? limits = null)
    {
        var entries = ImageFolder.List(folder, options);
        var classes = entries.Select(e => e.Label).Distinct().ToList();
        var index = ClassIndex(classes);
        return new ImageFileDataset(entries.Select(e => e.ImagePath).ToList(), entries.Select(e => index[e.Label]).ToArray(), classes, limits);
    }

    /// <summary>The full path of every image, by row.</summary>
    public IReadOnlyList<string> Paths => paths;

    /// <summary>The limits checked on each file before it is decoded.</summary>
    public ImageLimits Limits { get; }

    /// <summary>3: files are decoded to RGB (and converted for one-channel networks by preprocessing).</summary>
    public override int Channels => 3;

    /// <summary>The rows at <paramref name="indices"/>, in that order.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, <see cref="ImageDataset.Count"/>).</exception>
    public ImageFileDataset Subset(IReadOnlyList<int> indices)
    {
        CheckIndices(indices);
        return new ImageFileDataset(indices.Select(i => paths[i]).ToList(), LabelsAt(indices.ToArray()), ClassNames, Limits);
    }

    /// <summary>Splits class by class, as <see cref="InMemoryImageDataset.SplitStratified"/> does (the same rows for the same labels and seed).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The fraction is not strictly between 0 and 1.</exception>
    /// <exception cref="ArgumentException">A class has fewer than two images; the message names it.</exception>
    public (ImageFileDataset Train, ImageFileDataset Validation) SplitStratified(double validationFraction, long seed)
    {
        var (train, validation) = StratifiedIndices(validationFraction, seed);
        return (Subset(train), Subset(validation));
    }

    /// <summary>Decodes row <paramref name="index"/> to ML.NET's 8-bit image (the caller disposes it).</summary>
    /// <exception cref="InvalidDataException">The file is gone, unreadable, corrupt or over the limits; the message names it.</exception>
    internal MLImage Decode(int index)
    {
        string path = paths[index];
        try
        {
            return ImageTensor.Decode(path, Limits);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InvalidDataException($"Image '{path}' (row {index}) is gone: it was listed when training started and has since been deleted or moved.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"Image '{path}' (row {index}) cannot be read: {UserMessages.Of(e)}", e);
        }
    }
}
