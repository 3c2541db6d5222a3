using Microsoft.ML.Data;

namespace ResNet.MLNet.Data;

/// <summary>
/// The evaluation preprocessing of one image, driven by an <see cref="ImageModelInput"/> — the one implementation that
/// prediction, interpretation, streamed training and evaluation use: decode to RGB in [0, 1], scale the shorter side to
/// <see cref="ImageModelInput.ScaledSize"/> (or stretch to that square), centre-crop <see cref="ImageModelInput.ImageSize"/>,
/// convert to grayscale for a one-channel network, and normalize. With <see cref="ImageInterpolation.Bilinear"/> it is
/// torchvision's (<c>resize(256) → center_crop(224) → normalize(ImageNet)</c> for its v1 weights, antialiased); with
/// <see cref="ImageInterpolation.MLNet"/> the resize and grayscale are ML.NET's <c>ResizeImages</c> and
/// <c>ConvertToGrayscale</c>, pixel for pixel, which is what the estimators and their saved models compute.
/// </summary>
public static class ImagePreprocessing
{
    /// <summary>Resizes, crops, converts and normalizes an RGB image in [0, 1].</summary>
    /// <exception cref="ArgumentException">The input description is invalid.</exception>
    public static ImageTensor Apply(ImageTensor image, ImageModelInput input) => Finish(Cropped(image, input), input);

    /// <summary><see cref="Apply(ImageTensor, ImageModelInput)"/> of a decoded image.</summary>
    internal static ImageTensor Apply(MLImage image, ImageModelInput input) => Finish(Cropped(image, input), input);

    /// <summary>The resize and centre crop of <see cref="Apply(ImageTensor, ImageModelInput)"/>, before channels and normalization.</summary>
    internal static ImageTensor Cropped(ImageTensor image, ImageModelInput input) =>
        Resized(image, input).CenterCrop(input.ImageSize, input.ImageSize);

    /// <summary>
    /// The resize and centre crop of a decoded image. ML.NET's resampling reads the decoded pixels directly, so only the
    /// resized image is converted to float; torchvision's converts the whole image first.
    /// </summary>
    internal static ImageTensor Cropped(MLImage image, ImageModelInput input)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(input);
        input.Validate();
        return input.Interpolation == ImageInterpolation.MLNet
            ? MLNetResampling.Resize(image, input.ScaledSize, input.ResizeMode).CenterCrop(input.ImageSize, input.ImageSize)
            : Cropped(ImageTensor.FromImage(image), input);
    }

    /// <summary>
    /// The views test-time augmentation averages over, each preprocessed as <see cref="Apply(ImageTensor, ImageModelInput)"/> does: torchvision's
    /// ten-crop (the centre and four corner crops of the resized image, and their mirror images) when the resized image
    /// is larger than the crop, else the centre crop and its mirror image. The first view is <see cref="Apply(ImageTensor, ImageModelInput)"/>'s.
    /// </summary>
    /// <exception cref="ArgumentException">The input description is invalid.</exception>
    public static IReadOnlyList<ImageTensor> TestTimeViews(ImageTensor image, ImageModelInput input)
    {
        var resized = Resized(image, input);
        int size = input.ImageSize;
        var crops = new List<ImageTensor> { resized.CenterCrop(size, size) };
        if (resized.Height > size && resized.Width > size)
        {
            int bottom = resized.Height - size, right = resized.Width - size;
            crops.AddRange([resized.Crop(0, 0, size, size), resized.Crop(0, right, size, size), resized.Crop(bottom, 0, size, size), resized.Crop(bottom, right, size, size)]);
        }
        return crops.Concat(crops.Select(c => c.FlipHorizontal())).Select(c => Finish(c, input)).ToList();
    }

    private static ImageTensor Resized(ImageTensor image, ImageModelInput input)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(input);
        input.Validate();
        int scaled = input.ScaledSize;
        return (input.Interpolation, input.ResizeMode) switch
        {
            (ImageInterpolation.MLNet, var mode) => MLNetResampling.Resize(image, scaled, mode),
            (_, ImageResizeMode.Stretch) => image.Resize(scaled, scaled),
            _ => image.ResizeShorterSide(scaled),
        };
    }

    /// <summary>The last steps of <see cref="Apply(ImageTensor, ImageModelInput)"/>: grayscale for a one-channel network, then normalization.</summary>
    internal static ImageTensor Finish(ImageTensor cropped, ImageModelInput input)
    {
        var image3 = input.Channels == 1
            ? input.Interpolation == ImageInterpolation.MLNet ? MLNetResampling.Grayscale(cropped) : cropped.ToGrayscale()
            : cropped;
        return input.MeanImage is { } meanImage ? image3.Normalize(meanImage, input.Std) : image3.Normalize(input.Mean, input.Std);
    }

    /// <summary>Decodes <paramref name="path"/> (as <see cref="ImageTensor.Load"/> does) and applies <paramref name="input"/>.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not an image ML.NET can decode, or is over <paramref name="limits"/> (default <see cref="ImageLimits.Default"/>).</exception>
    public static ImageTensor Load(string path, ImageModelInput input, ImageLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        input.Validate();
        limits ??= ImageLimits.Default;
        limits.Validate();
        using var image = ImageTensor.Decode(path, limits);
        return Apply(image, input);
    }
}
