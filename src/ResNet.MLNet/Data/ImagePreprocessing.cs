namespace ResNet.MLNet.Data;

/// <summary>
/// torchvision's evaluation preprocessing of one image, driven by an <see cref="ImageModelInput"/>: decode to RGB in
/// [0, 1], scale the shorter side to <see cref="ImageModelInput.ScaledSize"/> (or stretch to that square), centre-crop
/// <see cref="ImageModelInput.ImageSize"/>, convert to grayscale for a one-channel network, and normalize —
/// <c>resize(256) → center_crop(224) → normalize(ImageNet)</c> for torchvision's v1 weights (bilinear, antialiased).
/// </summary>
public static class ImagePreprocessing
{
    /// <summary>Resizes, crops, converts and normalizes an RGB image in [0, 1].</summary>
    /// <exception cref="ArgumentException">The input description is invalid.</exception>
    public static ImageTensor Apply(ImageTensor image, ImageModelInput input)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(input);
        input.Validate();
        int scaled = input.ScaledSize;
        var resized = input.ResizeMode == ImageResizeMode.Stretch ? image.Resize(scaled, scaled) : image.ResizeShorterSide(scaled);
        var cropped = resized.CenterCrop(input.ImageSize, input.ImageSize);
        var image3 = input.Channels == 1 ? cropped.ToGrayscale() : cropped;
        return input.MeanImage is { } meanImage ? image3.Normalize(meanImage, input.Std) : image3.Normalize(input.Mean, input.Std);
    }

    /// <summary>Decodes <paramref name="path"/> (see <see cref="ImageTensor.Load"/>) and applies <paramref name="input"/>.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not an image ML.NET can decode, or is over <paramref name="limits"/> (default <see cref="ImageLimits.Default"/>).</exception>
    public static ImageTensor Load(string path, ImageModelInput input, ImageLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        input.Validate();
        limits ??= ImageLimits.Default;
        limits.Validate();
        return Apply(ImageTensor.Load(path, limits), input);
    }
}
