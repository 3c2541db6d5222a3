using System.Globalization;
using System.Text.Json;

namespace ResNet.MLNet;

/// <summary>How an image is brought to the network's square input size.</summary>
public enum ImageResizeMode
{
    /// <summary>Scale the shorter side and crop the centre (torchvision's Resize + CenterCrop, ML.NET's IsoCrop; aspect ratio kept).</summary>
    CenterCrop,
    /// <summary>Stretch the whole image to a square (ML.NET's Fill).</summary>
    Stretch,
}

/// <summary>How pixels are resampled when an image is resized.</summary>
public enum ImageInterpolation
{
    /// <summary>Bilinear with antialiasing when shrinking: torchvision's default, the one every torchvision ResNet weight uses.</summary>
    Bilinear,
    /// <summary>
    /// ML.NET's <c>ResizeImages</c> resampling (Mitchell cubic through SkiaSharp; nearest neighbour for a stretch) and
    /// <c>ConvertToGrayscale</c>: what ML.NET's own pretrained models were prepared with, and what the estimators and
    /// their saved models compute.
    /// </summary>
    MLNet,
}

/// <summary>
/// The one description of what an image model expects as input: channels, network input size, how an image is resized
/// and cropped to it, the per-channel normalization, and the class names of its head. Pretrained weights carry one
/// (<see cref="Weights.PretrainedWeights.Input"/>), weight files written by this toolkit store one in their metadata, and
/// the featurizer, the classifier, training, prediction and the ONNX export read it. Pixel values are taken in [0, 1] and
/// in RGB order: weights made for 0–255 or BGR input are converted when they are loaded (a 0–255 mean <c>m</c> and scale
/// <c>s</c> become <c>m/255</c> and <c>s/255</c>), so no other pixel scale or channel order is needed here.
/// </summary>
public sealed record ImageModelInput
{
    /// <summary>ImageNet channel means (RGB), torchvision's normalization.</summary>
    public static IReadOnlyList<float> ImageNetMean { get; } = [0.485f, 0.456f, 0.406f];

    /// <summary>ImageNet channel standard deviations (RGB).</summary>
    public static IReadOnlyList<float> ImageNetStd { get; } = [0.229f, 0.224f, 0.225f];

    /// <summary>ITU-R 601 luminance weights (R, G, B), as torchvision's <c>rgb_to_grayscale</c>.</summary>
    internal static IReadOnlyList<float> Luminance { get; } = [0.2989f, 0.587f, 0.114f];

    /// <summary>
    /// torchvision's evaluation preprocessing of its ImageNet weights (v1): shorter side to 256, centre crop 224,
    /// ImageNet mean and std, bilinear. No class names.
    /// </summary>
    public static ImageModelInput ImageNet { get; } = new() { ResizeSize = 256 };

    /// <summary>Input channels of the network: 3 (RGB) or 1 (grayscale). Default 3.</summary>
    public int Channels { get; init; } = 3;

    /// <summary>Side of the square network input in pixels (torchvision's crop size). Default 224.</summary>
    public int ImageSize { get; init; } = 224;

    /// <summary>
    /// Side the image is scaled to before the centre <see cref="ImageSize"/> crop (torchvision's resize size: 256 for
    /// its v1 weights, 232 for v2; a smaller one pads the crop with zeros, as torchvision does). Null (the default)
    /// means <see cref="ImageSize"/>: scale straight to the input size.
    /// </summary>
    public int? ResizeSize { get; init; }

    /// <summary>Aspect-keeping scale and centre crop, or a stretch. Default <see cref="ImageResizeMode.CenterCrop"/>.</summary>
    public ImageResizeMode ResizeMode { get; init; } = ImageResizeMode.CenterCrop;

    /// <summary>Resampling the weights were evaluated with. Default <see cref="ImageInterpolation.Bilinear"/>.</summary>
    public ImageInterpolation Interpolation { get; init; } = ImageInterpolation.Bilinear;

    /// <summary>Per-channel mean subtracted from pixels in [0, 1], one per channel. Default ImageNet's.</summary>
    public IReadOnlyList<float> Mean { get; init; } = ImageNetMean;

    /// <summary>Per-channel standard deviation the centred pixels are divided by, one per channel, positive. Default ImageNet's.</summary>
    public IReadOnlyList<float> Std { get; init; } = ImageNetStd;

    /// <summary>
    /// A per-pixel mean (channels x <see cref="ImageSize"/> x <see cref="ImageSize"/>, planar RGB, in [0, 1]) subtracted
    /// instead of <see cref="Mean"/>, for weights trained that way (ML.NET's ResNet-18 subtracts a mean image). Null (the
    /// default) for a per-channel mean. It belongs to one input size: <see cref="WithImageSize"/> and
    /// <see cref="WithChannels"/> drop it (keeping <see cref="Mean"/>, its channel averages), and file metadata does not store it.
    /// </summary>
    public IReadOnlyList<float>? MeanImage { get; init; }

    /// <summary>Class names of the head, in class-index order; null when unknown or when there is no head.</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>The side scaled to before cropping: <see cref="ResizeSize"/>, or <see cref="ImageSize"/> when it is not set.</summary>
    public int ScaledSize => ResizeSize ?? ImageSize;

    /// <summary>
    /// The same preprocessing for another input size, keeping the resize-to-crop ratio (torchvision's 256/224 becomes
    /// 73/64 at 64 pixels). Returns this instance when <paramref name="imageSize"/> is null or unchanged.
    /// </summary>
    public ImageModelInput WithImageSize(int? imageSize)
    {
        if (imageSize is not int size || size == ImageSize)
            return this;
        return this with
        {
            ImageSize = size,
            MeanImage = null,
            ResizeSize = ResizeSize is int resize ? (int)Math.Round((double)size * resize / ImageSize, MidpointRounding.AwayFromZero) : null,
        };
    }

    /// <summary>
    /// This preprocessing as ML.NET's image transforms carry it out — what the estimators and their saved models compute:
    /// ML.NET's resampling (<see cref="ImageInterpolation.MLNet"/>), straight to <see cref="ImageSize"/> (ML.NET has no
    /// centre crop after a larger resize, so <see cref="ResizeSize"/> is dropped).
    /// </summary>
    internal ImageModelInput ForMLNetTransforms() => this with { Interpolation = ImageInterpolation.MLNet, ResizeSize = null };

    /// <summary>
    /// The same preprocessing for a network with <paramref name="channels"/> input channels: RGB statistics become their
    /// luminance-weighted mean for a grayscale network (whose first convolution was summed over RGB), and a grayscale
    /// statistic is repeated for an RGB network.
    /// </summary>
    /// <exception cref="ArgumentException">The channels are neither 1 nor 3, or the statistics do not fit.</exception>
    public ImageModelInput WithChannels(int channels)
    {
        if (channels == Channels && Mean.Count == channels && Std.Count == channels)
            return this;
        return (channels, Mean.Count) switch
        {
            (1, 3) => this with { Channels = 1, Mean = [Weighted(Mean)], Std = [Weighted(Std)], MeanImage = null },
            (3, 1) => this with { Channels = 3, Mean = [Mean[0], Mean[0], Mean[0]], Std = [Std[0], Std[0], Std[0]], MeanImage = null },
            _ when Mean.Count == channels => this with { Channels = channels, MeanImage = Channels == channels ? MeanImage : null },
            _ => throw new ArgumentException($"A preprocessing with {Mean.Count} channel statistics cannot feed a network with {channels} input channels.", nameof(channels)),
        };
    }

    private static float Weighted(IReadOnlyList<float> rgb) => Luminance[0] * rgb[0] + Luminance[1] * rgb[1] + Luminance[2] * rgb[2];

    /// <summary>Checks the description, naming the property at fault.</summary>
    /// <exception cref="ArgumentException">A size is not positive, the channels are not 1 or 3, or the statistics do not give one finite value (std: positive) per channel.</exception>
    public void Validate()
    {
        string name = nameof(ImageModelInput);
        if (Channels is not (1 or 3))
            throw new ArgumentException($"{name}.{nameof(Channels)} must be 1 or 3; got {Channels}.", nameof(Channels));
        if (ImageSize < 1)
            throw new ArgumentException($"{name}.{nameof(ImageSize)} must be positive; got {ImageSize}.", nameof(ImageSize));
        if (ResizeSize is int resize && resize < 1)
            throw new ArgumentException($"{name}.{nameof(ResizeSize)} must be positive, or null for {nameof(ImageSize)}; got {resize}.", nameof(ResizeSize));
        if (Mean is null || Mean.Count != Channels || Mean.Any(m => !float.IsFinite(m)))
            throw new ArgumentException($"{name}.{nameof(Mean)} must hold one finite value per channel ({Channels}); got [{Format(Mean)}].", nameof(Mean));
        if (Std is null || Std.Count != Channels || Std.Any(s => !(s > 0) || !float.IsFinite(s)))
            throw new ArgumentException($"{name}.{nameof(Std)} must hold one positive finite value per channel ({Channels}); got [{Format(Std)}].", nameof(Std));
        if (MeanImage is not null && (MeanImage.Count != (long)Channels * ImageSize * ImageSize || MeanImage.Any(m => !float.IsFinite(m))))
            throw new ArgumentException($"{name}.{nameof(MeanImage)} must hold {Channels} x {ImageSize} x {ImageSize} finite values; got {MeanImage.Count}.", nameof(MeanImage));
        if (!Enum.IsDefined(ResizeMode))
            throw new ArgumentException($"{name}.{nameof(ResizeMode)} is not a defined value: {(int)ResizeMode}.", nameof(ResizeMode));
        if (!Enum.IsDefined(Interpolation))
            throw new ArgumentException($"{name}.{nameof(Interpolation)} is not a defined value: {(int)Interpolation}.", nameof(Interpolation));
    }

    private static string Format(IReadOnlyList<float>? values) =>
        values is null ? "" : string.Join(", ", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    // Metadata keys, in safetensors __metadata__ and ONNX metadata_props: plain strings, as timm's pretrained_cfg names them.
    internal const string MeanKey = "mean", StdKey = "std", InputSizeKey = "input_size", ResizeSizeKey = "resize_size",
        ResizeModeKey = "resize_mode", InterpolationKey = "interpolation", ClassNamesKey = "class_names";

    /// <summary>The string map this description is stored as in file metadata.</summary>
    public IReadOnlyDictionary<string, string> ToMetadata()
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [MeanKey] = Format(Mean).Replace(" ", ""),
            [StdKey] = Format(Std).Replace(" ", ""),
            [InputSizeKey] = string.Create(CultureInfo.InvariantCulture, $"{Channels},{ImageSize},{ImageSize}"),
            [ResizeModeKey] = ResizeMode == ImageResizeMode.CenterCrop ? "center_crop" : "stretch",
            [InterpolationKey] = Interpolation == ImageInterpolation.Bilinear ? "bilinear" : "mlnet",
        };
        if (ResizeSize is int resize)
            map[ResizeSizeKey] = resize.ToString(CultureInfo.InvariantCulture);
        if (ClassNames is not null)
            map[ClassNamesKey] = JsonSerializer.Serialize(ClassNames);
        return map;
    }

    /// <summary>
    /// Reads a description from file metadata; null when the map has no <c>input_size</c> or its fields do not parse
    /// (files written before this description existed have mean, std and input size only, which is enough).
    /// </summary>
    public static ImageModelInput? FromMetadata(IReadOnlyDictionary<string, string> map)
    {
        ArgumentNullException.ThrowIfNull(map);
        string? Get(string key) => map.TryGetValue(key, out var v) ? v : null;
        var size = ParseList(Get(InputSizeKey), s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) ? i : (int?)null);
        if (size is not { Length: 3 } || size[1] != size[2])
            return null;
        int channels = size[0];
        var mean = ParseList(Get(MeanKey), ParseFloat);
        var std = ParseList(Get(StdKey), ParseFloat);
        int? resize = int.TryParse(Get(ResizeSizeKey), NumberStyles.Integer, CultureInfo.InvariantCulture, out int r) ? r : null;
        IReadOnlyList<string>? classes = null;
        if (Get(ClassNamesKey) is { } json)
        {
            try
            {
                classes = JsonSerializer.Deserialize<string[]>(json);
            }
            catch (JsonException)
            {
                classes = null;
            }
        }
        var input = new ImageModelInput
        {
            Channels = channels,
            ImageSize = size[1],
            ResizeSize = resize,
            ResizeMode = Get(ResizeModeKey) == "stretch" ? ImageResizeMode.Stretch : ImageResizeMode.CenterCrop,
            Interpolation = Get(InterpolationKey) == "mlnet" ? ImageInterpolation.MLNet : ImageInterpolation.Bilinear,
            Mean = mean ?? (channels == 3 ? ImageNetMean : [0.5f]),
            Std = std ?? (channels == 3 ? ImageNetStd : [0.5f]),
            ClassNames = classes,
        };
        try
        {
            input.Validate();
            return input;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static float? ParseFloat(string s) => float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out float f) ? f : null;

    private static T[]? ParseList<T>(string? text, Func<string, T?> parse) where T : struct
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        var parts = text.Split(',').Select(p => parse(p.Trim())).ToArray();
        return parts.All(p => p.HasValue) ? parts.Select(p => p!.Value).ToArray() : null;
    }
}
