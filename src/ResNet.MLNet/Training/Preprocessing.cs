namespace ResNet.MLNet.Training;

/// <summary>
/// How stored images become network input, in training and evaluation alike: scaled to [0, 1], resized to
/// <see cref="ImageSize"/> x <see cref="ImageSize"/> (bilinear, antialiased; the whole image is stretched), brought to the
/// model's channels (grayscale repeated to RGB, RGB reduced to luminance), then normalized with <see cref="Mean"/> and <see cref="Std"/>.
/// </summary>
public sealed class Preprocessing
{
    /// <summary>Side of the square network input in pixels. Default 224.</summary>
    public int ImageSize { get; set; } = 224;

    /// <summary>
    /// Per-channel mean subtracted from pixels in [0, 1]; one value per model input channel, or three (RGB) for a
    /// one-channel model, which then uses their luminance-weighted mean. Default ImageNet's.
    /// </summary>
    public IReadOnlyList<float> Mean { get; set; } = ResNetFeaturizerOptions.ImageNetMean;

    /// <summary>Per-channel standard deviation, positive, with as many values as <see cref="Mean"/>. Default ImageNet's.</summary>
    public IReadOnlyList<float> Std { get; set; } = ResNetFeaturizerOptions.ImageNetStd;

    /// <summary>Checks the settings, naming the one at fault.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        if (ImageSize < 1)
            throw new ArgumentException($"{nameof(Preprocessing)}.{nameof(ImageSize)} must be positive; got {ImageSize}.", nameof(ImageSize));
        if (Mean is null || Mean.Count == 0 || Mean.Any(m => !float.IsFinite(m)))
            throw new ArgumentException($"{nameof(Preprocessing)}.{nameof(Mean)} must hold one finite value per channel.", nameof(Mean));
        if (Std is null || Std.Count != Mean.Count || Std.Any(s => !(s > 0) || !float.IsFinite(s)))
            throw new ArgumentException($"{nameof(Preprocessing)}.{nameof(Std)} must hold one positive finite value per channel, as many as {nameof(Mean)} ({Mean.Count}).", nameof(Std));
    }
}
