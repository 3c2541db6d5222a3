using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace ResNet.MLNet.Training;

/// <summary>
/// Turns a batch of stored uint8 images into network input on the training device, as <see cref="ImageModelInput"/>
/// and <see cref="Augmentation"/> describe: scale to [0, 1], random-resized crop (each crop resized bilinear,
/// antialiased), flip, adapt the channels, jitter colours, normalize. Images are stored already preprocessed to the input
/// size (<see cref="Data.ImagePreprocessing"/>'s pixels, through ML.NET's transforms), so evaluation only normalizes;
/// a dataset stored at another size is resized bilinear, antialiased. All random choices come from the caller's
/// <see cref="RandomSource"/>.
/// </summary>
internal sealed class BatchPreprocessor : IDisposable
{
    private static readonly double MinLogRatio = Math.Log(3.0 / 4), MaxLogRatio = Math.Log(4.0 / 3);

    private readonly int size;
    private readonly int storedChannels;
    private readonly int modelChannels;
    private readonly Device device;
    private readonly Tensor mean;
    private readonly Tensor std;
    private readonly Tensor luminance;

    /// <exception cref="ArgumentException">The channels cannot be adapted or the mean and std do not fit the model's channels.</exception>
    public BatchPreprocessor(ImageModelInput input, int storedChannels, int modelChannels, Device device)
    {
        if (storedChannels != modelChannels && !(storedChannels is 1 or 3 && modelChannels is 1 or 3))
            throw new ArgumentException($"Images with {storedChannels} channels cannot feed a model with {modelChannels} input channels (1 and 3 convert to each other).");
        input = input.WithChannels(modelChannels);
        size = input.ImageSize;
        this.storedChannels = storedChannels;
        this.modelChannels = modelChannels;
        this.device = device;
        using var scope = NewDisposeScope();
        luminance = tensor(ImageModelInput.Luminance.ToArray(), device: device).reshape(1, 3, 1, 1).DetachFromDisposeScope();
        (mean, std) = Normalization(input, modelChannels, device);
        mean.DetachFromDisposeScope();
        std.DetachFromDisposeScope();
    }

    /// <summary>
    /// The mean (per channel, or <see cref="ImageModelInput.MeanImage"/> per pixel) and std of <paramref name="input"/>
    /// as tensors that broadcast over a (batch, channels, size, size) batch.
    /// </summary>
    internal static (Tensor Mean, Tensor Std) Normalization(ImageModelInput input, int channels, Device device)
    {
        var mean = input.MeanImage is { } image
            ? tensor(image.ToArray(), device: device).reshape(1, channels, input.ImageSize, input.ImageSize)
            : tensor(input.Mean.ToArray(), device: device).reshape(1, channels, 1, 1);
        return (mean, tensor(input.Std.ToArray(), device: device).reshape(1, channels, 1, 1));
    }

    /// <summary>Evaluation input: resize, channels, normalize.</summary>
    public Tensor Evaluation(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = Resize(ToUnitFloat(images));
        return Normalize(AdaptChannels(x)).MoveToOuterDisposeScope();
    }

    /// <summary>Training input with <paramref name="augmentation"/> drawn per image from <paramref name="random"/>.</summary>
    public Tensor Training(Tensor images, Augmentation augmentation, RandomSource random)
    {
        using var scope = NewDisposeScope();
        int n = (int)images.shape[0];
        var x = ToUnitFloat(images);
        x = augmentation.RandomResizedCrop ? RandomResizedCrop(x, augmentation.MinScale, random) : Resize(x);
        if (augmentation.HorizontalFlip)
        {
            var flip = Enumerable.Range(0, n).Select(_ => random.NextDouble() < 0.5).ToArray();
            if (flip.Any(f => f))
                x = where(tensor(flip, device: device).reshape(n, 1, 1, 1), x.flip(3), x);
        }
        x = AdaptChannels(x);
        if (augmentation.ColorJitter > 0)
            x = ColorJitter(x, augmentation.ColorJitter, random);
        return Normalize(x).MoveToOuterDisposeScope();
    }

    private Tensor ToUnitFloat(Tensor images) => images.to(device).to_type(ScalarType.Float32).div_(255);

    private Tensor Resize(Tensor x) =>
        x.shape[2] == size && x.shape[3] == size ? x : ResizeTo(x);

    private Tensor ResizeTo(Tensor x) =>
        interpolate(x, [size, size], mode: InterpolationMode.Bilinear, align_corners: false, antialias: true);

    /// <summary>torchvision's <c>RandomResizedCrop.get_params</c> per image, then a resize of each crop.</summary>
    private Tensor RandomResizedCrop(Tensor x, double minScale, RandomSource random)
    {
        int height = (int)x.shape[2], width = (int)x.shape[3];
        var crops = new List<Tensor>((int)x.shape[0]);
        for (int i = 0; i < x.shape[0]; i++)
        {
            var (top, left, h, w) = CropBox(height, width, minScale, random);
            var crop = x[TensorIndex.Slice(i, i + 1), TensorIndex.Colon, TensorIndex.Slice(top, top + h), TensorIndex.Slice(left, left + w)];
            crops.Add(ResizeTo(crop));
        }
        return cat(crops, 0);
    }

    internal static (int Top, int Left, int Height, int Width) CropBox(int height, int width, double minScale, RandomSource random)
    {
        double area = (double)height * width;
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double target = area * random.NextDouble(minScale, 1);
            double ratio = Math.Exp(random.NextDouble(MinLogRatio, MaxLogRatio));
            int w = (int)Math.Round(Math.Sqrt(target * ratio));
            int h = (int)Math.Round(Math.Sqrt(target / ratio));
            if (w > 0 && w <= width && h > 0 && h <= height)
                return (random.NextInt(height - h + 1), random.NextInt(width - w + 1), h, w);
        }
        // Fallback: the whole image, cropped centrally to the nearest allowed aspect ratio.
        double inRatio = (double)width / height;
        int cw = width, ch = height;
        if (inRatio < 3.0 / 4)
            ch = (int)Math.Round(width / (3.0 / 4));
        else if (inRatio > 4.0 / 3)
            cw = (int)Math.Round(height * (4.0 / 3));
        return ((height - ch) / 2, (width - cw) / 2, ch, cw);
    }

    /// <summary>Brightness, contrast, then saturation, each scaled by a factor in [1 - s, 1 + s] per image; values stay in [0, 1].</summary>
    private Tensor ColorJitter(Tensor x, double strength, RandomSource random)
    {
        int n = (int)x.shape[0];
        var factors = new float[3, n];
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < 3; k++)
                factors[k, i] = (float)random.NextDouble(1 - strength, 1 + strength);
        }
        Tensor Factor(int k) => tensor(Enumerable.Range(0, n).Select(i => factors[k, i]).ToArray(), device: device).reshape(n, 1, 1, 1);

        x = x.mul(Factor(0)).clamp_(0, 1);
        var grayMean = Gray(x).mean([1, 2, 3], keepdim: true);
        x = Blend(x, grayMean, Factor(1));
        if (x.shape[1] == 3)
            x = Blend(x, Gray(x), Factor(2));
        return x;
    }

    /// <summary>torchvision's <c>_blend</c>: factor x image + (1 - factor) x other, clamped to [0, 1].</summary>
    private static Tensor Blend(Tensor image, Tensor other, Tensor factor) => image.sub(other).mul_(factor).add_(other).clamp_(0, 1);

    private Tensor Gray(Tensor x) => x.shape[1] == 3 ? x.mul(luminance).sum(1, keepdim: true) : x;

    private Tensor AdaptChannels(Tensor x)
    {
        if (storedChannels == modelChannels)
            return x;
        return modelChannels == 3 ? x.expand(-1, 3, -1, -1) : Gray(x);
    }

    private Tensor Normalize(Tensor x) => x.sub(mean).div_(std);

    public void Dispose()
    {
        mean.Dispose();
        std.Dispose();
        luminance.Dispose();
    }
}
