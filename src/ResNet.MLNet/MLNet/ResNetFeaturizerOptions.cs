namespace ResNet.MLNet;

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
    /// <summary>Name of the output column (a known-size <c>Vector&lt;Single&gt;</c>). Default "Features".</summary>
    public string OutputColumnName { get; set; } = "Features";

    /// <summary>Input column: an ML.NET image (from <c>LoadImages</c>). Default null: the same name as the output column.</summary>
    public string? InputColumnName { get; set; }

    /// <summary>
    /// Architecture of the zoo to build. Default null: the architecture of the weights (<see cref="WeightsPath"/>), else
    /// ResNet-50. Ignored when <see cref="Model"/> is set.
    /// </summary>
    public ResNetArchitecture? Architecture { get; set; }

    /// <summary>A network built in code to use instead of <see cref="Architecture"/>. The toolkit does not dispose it. Default null.</summary>
    public Models.ResNet? Model { get; set; }

    /// <summary>
    /// Pretrained weights: a registry name (<c>resnet18.mlnet_in1k</c>, <c>resnet50.tv2_in1k</c>; see
    /// <see cref="Weights.WeightsRegistry"/>) or a file (.pth, .safetensors, .onnx, TorchSharp format). They bring their
    /// architecture and <see cref="ImageModelInput"/>. Default null: deterministic random weights from the MLContext seed.
    /// </summary>
    public string? WeightsPath { get; set; }

    /// <summary>
    /// The input description: size, resize and crop, normalization. Default null: the weights' own (registry entry or
    /// file metadata), else ImageNet's normalization at 224 pixels.
    /// </summary>
    public ImageModelInput? Input { get; set; }

    /// <summary>Side of the square network input in pixels, overriding the input description's. Default null (its own, 224 for ImageNet weights).</summary>
    public int? ImageSize { get; set; }

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
        Input?.Validate();
    }
}
