namespace ResNet.MLNet;

/// <summary>How an image is brought to the network's square input size.</summary>
public enum ImageResizeMode
{
    /// <summary>Scale the shorter side to the input size and crop the centre (ML.NET's IsoCrop; aspect ratio kept).</summary>
    CenterCrop,
    /// <summary>Stretch the whole image to the input size (ML.NET's Fill).</summary>
    Stretch,
}

/// <summary>Which library runs the network inside ML.NET pipelines.</summary>
public enum ResNetInferenceEngine
{
    /// <summary>ONNX Runtime over the exported graph: the fastest on CPU (about 4x TorchSharp eager for ResNet-50).</summary>
    OnnxRuntime,
    /// <summary>TorchSharp (libtorch) eager execution of the model.</summary>
    TorchSharp,
}

/// <summary>Options of <c>mlContext.Transforms.ResNetFeaturizer</c>. Every property has a documented default.</summary>
public sealed class ResNetFeaturizerOptions
{
    /// <summary>ImageNet channel means (RGB), torchvision's normalization.</summary>
    public static readonly IReadOnlyList<float> ImageNetMean = [0.485f, 0.456f, 0.406f];

    /// <summary>ImageNet channel standard deviations (RGB).</summary>
    public static readonly IReadOnlyList<float> ImageNetStd = [0.229f, 0.224f, 0.225f];

    /// <summary>Name of the output column (a known-size <c>Vector&lt;Single&gt;</c>). Default "Features".</summary>
    public string OutputColumnName { get; set; } = "Features";

    /// <summary>Input column: an ML.NET image (from <c>LoadImages</c>). Default null: the same name as the output column.</summary>
    public string? InputColumnName { get; set; }

    /// <summary>Architecture of the zoo to build. Default <see cref="ResNetArchitecture.ResNet50"/>. Ignored when <see cref="Model"/> is set.</summary>
    public ResNetArchitecture Architecture { get; set; } = ResNetArchitecture.ResNet50;

    /// <summary>A network built in code to use instead of <see cref="Architecture"/>. The toolkit does not dispose it. Default null.</summary>
    public Models.ResNet? Model { get; set; }

    /// <summary>Pretrained weights (.pth, .safetensors or TorchSharp format). Default null: deterministic random weights from the MLContext seed.</summary>
    public string? WeightsPath { get; set; }

    /// <summary>Side of the square network input in pixels. Default 224.</summary>
    public int ImageSize { get; set; } = 224;

    /// <summary>How images reach <see cref="ImageSize"/>. Default <see cref="ImageResizeMode.CenterCrop"/>.</summary>
    public ImageResizeMode ResizeMode { get; set; } = ImageResizeMode.CenterCrop;

    /// <summary>Per-channel mean subtracted from pixels scaled to [0, 1]. Default ImageNet's.</summary>
    public IReadOnlyList<float> Mean { get; set; } = ImageNetMean;

    /// <summary>Per-channel standard deviation pixels are divided by. Default ImageNet's.</summary>
    public IReadOnlyList<float> Std { get; set; } = ImageNetStd;

    /// <summary>What to emit: the pooled embedding (default), or a stage's feature map, logits or probabilities.</summary>
    public ResNetOutputKind Output { get; set; } = ResNetOutputKind.Embedding;

    /// <summary>With <see cref="ResNetOutputKind.StageFeatureMap"/>: the stage, 1 to 4 (C2..C5). Default 4.</summary>
    public int Stage { get; set; } = 4;

    /// <summary>Scale each output vector to unit L2 norm. Default false.</summary>
    public bool L2Normalize { get; set; }

    /// <summary>Rows scored per batch. Default 32.</summary>
    public int BatchSize { get; set; } = 32;

    /// <summary>Inference engine. Default <see cref="ResNetInferenceEngine.OnnxRuntime"/>.</summary>
    public ResNetInferenceEngine Engine { get; set; } = ResNetInferenceEngine.OnnxRuntime;

    /// <summary>TorchSharp device for <see cref="ResNetInferenceEngine.TorchSharp"/> ("cpu", "cuda", "cuda:1"). Default "cpu".</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>A text column naming each row's image file, quoted in errors. Default "ImagePath" (used when present).</summary>
    public string? ImagePathColumnName { get; set; } = "ImagePath";

    /// <summary>
    /// Limits checked on the header of every file of <see cref="ImagePathColumnName"/> before ML.NET decodes it (pixels
    /// at most Pillow's 89.5 MP, regular files only, no truncated PNG/JPEG). Default <see cref="Data.ImageLimits.Default"/>.
    /// </summary>
    public Data.ImageLimits ImageLimits { get; set; } = Data.ImageLimits.Default;

    /// <summary>Checks the options, naming the one at fault.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(OutputColumnName))
            throw new ArgumentException($"{nameof(OutputColumnName)} must be set.", nameof(OutputColumnName));
        if (ImageSize < 8)
            throw new ArgumentException($"{nameof(ImageSize)} must be at least 8 pixels; got {ImageSize}.", nameof(ImageSize));
        if (BatchSize < 1)
            throw new ArgumentException($"{nameof(BatchSize)} must be at least 1; got {BatchSize}.", nameof(BatchSize));
        if (Mean is null || Std is null || Mean.Count != Std.Count || Mean.Count == 0)
            throw new ArgumentException($"{nameof(Mean)} and {nameof(Std)} must give one value per input channel.", nameof(Mean));
        if (Std.Any(s => s <= 0))
            throw new ArgumentException($"{nameof(Std)} values must be positive.", nameof(Std));
        if (WeightsPath is not null && !File.Exists(WeightsPath))
            throw new FileNotFoundException($"Weights file '{Path.GetFullPath(WeightsPath)}' does not exist.", WeightsPath);
    }
}
