using Microsoft.ML;
using ResNet.MLNet.Models;

namespace ResNet.MLNet;

/// <summary>Which library runs the network inside ML.NET pipelines.</summary>
public enum ResNetInferenceEngine
{
    /// <summary>ONNX Runtime over the exported graph: the fastest on CPU (about 4x TorchSharp eager for ResNet-50).</summary>
    OnnxRuntime,
    /// <summary>TorchSharp (libtorch) eager execution of the model.</summary>
    TorchSharp,
}

/// <summary>The arithmetic the network runs in.</summary>
public enum ResNetPrecision
{
    /// <summary>32-bit floating point, the network as trained.</summary>
    Float32,
    /// <summary>
    /// Post-training static int8 quantization (QDQ: uint8 activations calibrated on the first images of the data the
    /// estimator is fitted on, int8 per-channel convolution weights), run by ONNX Runtime's integer kernels and saved as
    /// a plain ML.NET twin like float32. Faster on CPUs with VNNI; features differ slightly from float32.
    /// </summary>
    Int8,
}

/// <summary>How a network is quantized with <see cref="ResNetPrecision.Int8"/>.</summary>
public sealed class Int8Options
{
    /// <summary>How many rows of the data the estimator is fitted on (spread over all of it) calibrate the activation ranges. Default 32.</summary>
    public int CalibrationImages { get; set; } = 32;

    /// <summary>
    /// Bits of the quantized convolution weights, 7 or 8. Default 7: products of uint8 activations and 7-bit weights
    /// cannot overflow the int16 pair sums that CPUs without VNNI (AVX2, AVX-512 without VNNI) use, so the saved model
    /// computes the same on every CPU. 8 is slightly closer to float32 where every CPU that runs the model has VNNI.
    /// </summary>
    public int WeightBits { get; set; } = 7;

    /// <summary>Checks the options, naming the one at fault.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        if (CalibrationImages < 1)
            throw new ArgumentException($"{nameof(Int8Options)}.{nameof(CalibrationImages)} must be at least 1; got {CalibrationImages}.", nameof(CalibrationImages));
        if (WeightBits is not (7 or 8))
            throw new ArgumentException($"{nameof(Int8Options)}.{nameof(WeightBits)} must be 7 or 8; got {WeightBits}.", nameof(WeightBits));
    }
}

/// <summary>Options of <c>mlContext.Transforms.ResNetFeaturizer</c>. Every property has a documented default.</summary>
public sealed class ResNetFeaturizerOptions
{
    /// <summary>Name of the output column (a known-size <c>Vector&lt;Single&gt;</c>). Default "Features".</summary>
    public string OutputColumnName { get; set; } = "Features";

    /// <summary>Input column: an ML.NET image (from <c>LoadImages</c>). Default null: the same name as the output column.</summary>
    public string? InputColumnName { get; set; }

    /// <summary>
    /// Architecture to build: a named one (<c>ResNetArchitecture.ResNet50</c> converts implicitly), a parsed name
    /// (<c>ResNetModels.Options("cifar_resnet20")</c>) or custom options. Default null: the architecture of the weights
    /// (<see cref="WeightsPath"/>), else ResNet-50. Ignored when <see cref="Model"/> is set.
    /// </summary>
    public ResNetOptions? Architecture { get; set; }

    /// <summary>A network built in code to use instead of <see cref="Architecture"/>. The toolkit does not dispose it. Default null.</summary>
    public ResNetModel? Model { get; set; }

    /// <summary>
    /// Pretrained weights: a registry name (<c>resnet18.mlnet_in1k</c>, <c>resnet50.tv2_in1k</c>; see
    /// <see cref="Weights.WeightsRegistry"/>) or a file (.pth, .safetensors, .onnx, TorchSharp format). They bring their
    /// architecture and <see cref="ImageModelInput"/>. Default null: deterministic random weights from <see cref="Seed"/>.
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

    /// <summary>Arithmetic of the network. Default <see cref="ResNetPrecision.Float32"/>; <see cref="ResNetPrecision.Int8"/> needs the ONNX Runtime engine.</summary>
    public ResNetPrecision Precision { get; set; } = ResNetPrecision.Float32;

    /// <summary>How <see cref="ResNetPrecision.Int8"/> quantizes. Default: 32 calibration images, 7-bit weights.</summary>
    public Int8Options Int8 { get; set; } = new();

    /// <summary>TorchSharp device for <see cref="ResNetInferenceEngine.TorchSharp"/> ("cpu", "cuda", "cuda:1"). Default "cpu".</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>A text column naming each row's image file, quoted in errors. Default "ImagePath" (used when present).</summary>
    public string? ImagePathColumnName { get; set; } = "ImagePath";

    /// <summary>
    /// Limits checked on the header of every file of <see cref="ImagePathColumnName"/> before ML.NET decodes it (pixels
    /// at most Pillow's 89.5 MP, regular files only, no truncated PNG/JPEG). Default <see cref="Data.ImageLimits.Default"/>.
    /// </summary>
    public Data.ImageLimits ImageLimits { get; set; } = Data.ImageLimits.Default;

    /// <summary>
    /// Seed of the network's random initialization when no weights are loaded (<see cref="WeightsPath"/> and
    /// <see cref="Model"/> not set). Default 0. The MLContext's seed is not used (ML.NET gives no public way to it from a catalog).
    /// </summary>
    public long Seed { get; set; }

    /// <summary>
    /// Receives the featurizer's messages (a warning when it has no pretrained weights), as <c>MLContext.Log</c> receives
    /// ML.NET's: pass the same handler to see both. Default null (no messages).
    /// </summary>
    public EventHandler<LoggingEventArgs>? Log { get; set; }

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
        if (Precision == ResNetPrecision.Int8 && Engine != ResNetInferenceEngine.OnnxRuntime)
            throw new ArgumentException($"{nameof(Precision)} = Int8 runs on ONNX Runtime; set {nameof(Engine)} = OnnxRuntime.", nameof(Precision));
        Int8.Validate();
        Input?.Validate();
    }
}
