namespace ResNet.MLNet.Data;

/// <summary>
/// torchvision's evaluation preprocessing for one image: decode to RGB in [0, 1], resize the shorter side to
/// <see cref="ResizeSize"/> (bilinear, antialiased), centre-crop <see cref="CropSize"/>, normalize with
/// <see cref="Mean"/> and <see cref="Std"/> — <c>resize(256) → center_crop(224) → normalize(ImageNet)</c> by default,
/// the transform torchvision's pretrained ResNets were evaluated with.
/// </summary>
public sealed record ImagePreprocessing
{
    /// <summary>Side the shorter image side is scaled to. Default 256.</summary>
    public int ResizeSize { get; init; } = 256;

    /// <summary>Side of the square centre crop. Default 224.</summary>
    public int CropSize { get; init; } = 224;

    /// <summary>Per-channel (RGB) mean subtracted from values in [0, 1]. Default ImageNet's.</summary>
    public IReadOnlyList<float> Mean { get; init; } = ResNetFeaturizerOptions.ImageNetMean;

    /// <summary>Per-channel (RGB) standard deviation divided by. Default ImageNet's.</summary>
    public IReadOnlyList<float> Std { get; init; } = ResNetFeaturizerOptions.ImageNetStd;

    /// <summary>Limits checked on an image file's header before it is decoded (<see cref="Load"/>). Default <see cref="ImageLimits.Default"/>.</summary>
    public ImageLimits Limits { get; init; } = ImageLimits.Default;

    /// <summary>Checks the options, naming the one at fault.</summary>
    /// <exception cref="ArgumentException">A size is not positive, or Mean and Std are not three values each with a positive Std.</exception>
    public void Validate()
    {
        if (ResizeSize < 1)
            throw new ArgumentException($"{nameof(ResizeSize)} must be positive; got {ResizeSize}.", nameof(ResizeSize));
        if (CropSize < 1)
            throw new ArgumentException($"{nameof(CropSize)} must be positive; got {CropSize}.", nameof(CropSize));
        if (Mean is not { Count: 3 })
            throw new ArgumentException($"{nameof(Mean)} must give three values (R, G, B).", nameof(Mean));
        if (Std is not { Count: 3 } || Std.Any(s => !(s > 0)))
            throw new ArgumentException($"{nameof(Std)} must give three positive values (R, G, B).", nameof(Std));
        ArgumentNullException.ThrowIfNull(Limits, nameof(Limits));
        Limits.Validate();
    }

    /// <summary>Resizes, crops and normalizes an RGB image in [0, 1].</summary>
    public ImageTensor Apply(ImageTensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        Validate();
        return image.ResizeShorterSide(ResizeSize).CenterCrop(CropSize, CropSize).Normalize(Mean, Std);
    }

    /// <summary>Decodes <paramref name="path"/> (see <see cref="ImageTensor.Load"/>) and applies the preprocessing.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not an image ML.NET can decode, or is over <see cref="Limits"/>.</exception>
    public ImageTensor Load(string path)
    {
        Validate();
        return Apply(ImageTensor.Load(path, Limits));
    }
}
