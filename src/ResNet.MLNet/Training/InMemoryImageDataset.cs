using ResNet.MLNet.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace ResNet.MLNet.Training;

/// <summary>
/// Labeled images decoded into memory: one uint8 tensor (N x C x H x W, every image at the same stored size, on the CPU)
/// and labels 0..K-1. Training resizes, augments and normalizes per batch, so images are kept small and unnormalized.
/// </summary>
public sealed class InMemoryImageDataset : ImageDataset
{
    private readonly Tensor images;

    /// <summary>Wraps decoded images; the dataset takes ownership of <paramref name="imagesUInt8"/> and disposes it.</summary>
    /// <param name="imagesUInt8">uint8 pixels, N x C x H x W (C = 1 or 3), on the CPU.</param>
    /// <param name="labels">One class index per image, in [0, <paramref name="classNames"/>.Count).</param>
    /// <param name="classNames">The class names, by class index.</param>
    /// <exception cref="ArgumentException">The tensor is not 4-D uint8, the counts differ, a label is out of range, or there are no classes.</exception>
    public InMemoryImageDataset(Tensor imagesUInt8, long[] labels, IReadOnlyList<string> classNames)
        : base(labels, classNames)
    {
        ArgumentNullException.ThrowIfNull(imagesUInt8);
        if (imagesUInt8.dtype != ScalarType.Byte || imagesUInt8.dim() != 4)
            throw new ArgumentException($"Images must be a 4-D uint8 tensor (N x C x H x W); got {imagesUInt8.dtype} [{string.Join(", ", imagesUInt8.shape)}].", nameof(imagesUInt8));
        if (imagesUInt8.shape[0] != labels.Length)
            throw new ArgumentException($"There are {imagesUInt8.shape[0]} images but {labels.Length} labels.", nameof(labels));
        images = imagesUInt8.device_type == DeviceType.CPU ? imagesUInt8 : imagesUInt8.cpu();
        if (!ReferenceEquals(images, imagesUInt8))
            imagesUInt8.Dispose();
        images.DetachFromDisposeScope();
    }

    /// <summary>
    /// Copies row-major pixels (N x C x H x W bytes) into a dataset.
    /// </summary>
    /// <exception cref="ArgumentException">The pixel count is not <c>labels.Length x channels x height x width</c>, or see the constructor.</exception>
    public static InMemoryImageDataset FromPixels(ReadOnlySpan<byte> pixels, int channels, int height, int width, long[] labels, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(labels);
        long expected = (long)labels.Length * channels * height * width;
        if (channels < 1 || height < 1 || width < 1 || pixels.Length != expected)
            throw new ArgumentException($"Expected {labels.Length} x {channels} x {height} x {width} = {expected} bytes of pixels; got {pixels.Length}.", nameof(pixels));
        TorchRuntime.EnsureInitialized();
        var tensor = empty([labels.Length, channels, height, width], ScalarType.Byte);
        // The setter only reads the span.
        tensor.bytes = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(pixels), pixels.Length);
        return new InMemoryImageDataset(tensor, labels, classNames);
    }

    /// <summary>The labels of images [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>).</summary>
    internal long[] LabelRange(int start, int count) => LabelsAt(Enumerable.Range(start, count).ToArray());

    /// <summary>Channels of the stored images (1 or 3).</summary>
    public override int Channels => (int)images.shape[1];

    /// <summary>Stored height in pixels.</summary>
    public int Height => (int)images.shape[2];

    /// <summary>Stored width in pixels.</summary>
    public int Width => (int)images.shape[3];

    /// <summary>The images, N x C x H x W uint8 on the CPU; owned by the dataset.</summary>
    public Tensor Images => images;

    /// <summary>A new dataset holding copies of the images at <paramref name="indices"/>, in that order.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, <see cref="ImageDataset.Count"/>).</exception>
    public InMemoryImageDataset Subset(IReadOnlyList<int> indices)
    {
        CheckIndices(indices);
        using var index = tensor(indices.Select(i => (long)i).ToArray(), ScalarType.Int64);
        return new InMemoryImageDataset(images.index_select(0, index), LabelsAt(indices.ToArray()), ClassNames);
    }

    /// <summary>
    /// Splits into training and validation parts class by class: each class gives round(count x
    /// <paramref name="validationFraction"/>) images to validation, at least one, and keeps at least one for training.
    /// The choice depends only on <paramref name="seed"/>; both parts keep the original order.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The fraction is not strictly between 0 and 1.</exception>
    /// <exception cref="ArgumentException">A class has fewer than two images; the message names it.</exception>
    public (InMemoryImageDataset Train, InMemoryImageDataset Validation) SplitStratified(double validationFraction, long seed)
    {
        var (train, validation) = StratifiedIndices(validationFraction, seed);
        return (Subset(train), Subset(validation));
    }

    /// <summary>Frees the image tensor.</summary>
    protected override void Dispose(bool disposing) => images.Dispose();
}
