namespace ResNet.MLNet.Onnx;

using ResNet.MLNet.Models;

/// <summary>
/// Per-channel input normalization done inside the exported graph, <c>(x - Mean) / Std</c>, for an input already
/// scaled to [0, 1].
/// </summary>
/// <param name="Mean">One mean per input channel.</param>
/// <param name="Std">One standard deviation per input channel, each positive.</param>
public sealed record InputNormalization(IReadOnlyList<float> Mean, IReadOnlyList<float> Std)
{
    /// <summary>
    /// A per-pixel mean (channels x height x width, planar) subtracted instead of <see cref="Mean"/>; needs a graph with a
    /// fixed input size equal to its own. Default null.
    /// </summary>
    public IReadOnlyList<float>? MeanImage { get; init; }

    /// <summary>The ImageNet statistics torchvision's pretrained weights expect (RGB).</summary>
    public static InputNormalization ImageNet { get; } = new([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);
}

/// <summary>How <see cref="ResNetOnnx.Export(ResNetModel, string, OnnxExportOptions?)"/> shapes the ONNX graph.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>Output of the graph. Default <see cref="ResNetOutputKind.Logits"/>.</summary>
    public ResNetOutputKind Output { get; init; } = ResNetOutputKind.Logits;

    /// <summary>
    /// Normalization applied in the graph to a float input scaled to [0, 1]; <c>null</c> for none (the input is fed
    /// to the first convolution as is). Default <see cref="InputNormalization.ImageNet"/>, which fits 3-channel networks only.
    /// </summary>
    public InputNormalization? Normalization { get; init; } = InputNormalization.ImageNet;

    /// <summary>Name of the graph input, a float tensor (batch, channels, height, width). Default "input".</summary>
    public string InputName { get; init; } = "input";

    /// <summary>Name of the graph output. Default "output".</summary>
    public string OutputName { get; init; } = "output";

    /// <summary>
    /// Export for one row at a time, as ML.NET's <c>OnnxTransformer</c> scores: the input batch is fixed to 1 and the
    /// output drops the batch axis, so ML.NET sees <c>Vector&lt;Single, width&gt;</c> rather than <c>Vector&lt;Single, 1, width&gt;</c>.
    /// Default false (dynamic batch).
    /// </summary>
    public bool SingleRow { get; init; }

    /// <summary>
    /// The input description to record in the model's <c>metadata_props</c> (as <c>resnet_mlnet.input.*</c>: input size,
    /// resize and crop, mean, std, class names), so whoever runs the file knows how to feed it. It documents; the graph's
    /// arithmetic is <see cref="Normalization"/>'s. Default null (not recorded).
    /// </summary>
    public ImageModelInput? Input { get; init; }

    /// <summary>Input height fixed in the graph; <c>null</c> leaves it dynamic (<c>height</c>). Default 224.</summary>
    public int? ImageHeight { get; init; } = 224;

    /// <summary>Input width fixed in the graph; <c>null</c> leaves it dynamic (<c>width</c>). Default 224.</summary>
    public int? ImageWidth { get; init; } = 224;

    /// <summary>Checks the options against the network to export, naming the option at fault.</summary>
    /// <exception cref="ArgumentException">An option is invalid or does not fit the network.</exception>
    public void Validate(ResNetOptions network)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (Output is not (ResNetOutputKind.Embedding or ResNetOutputKind.Logits or ResNetOutputKind.Probabilities))
            throw new ArgumentException(
                $"{nameof(Output)} must be {nameof(ResNetOutputKind.Embedding)}, {nameof(ResNetOutputKind.Logits)} or {nameof(ResNetOutputKind.Probabilities)} for an ONNX export; got {Output}.", nameof(Output));
        if (Output != ResNetOutputKind.Embedding && network.NumClasses == 0)
            throw new ArgumentException($"{nameof(Output)} = {Output} needs a classifier head, but '{network.Name}' has {nameof(network.NumClasses)} = 0; export {nameof(ResNetOutputKind.Embedding)} instead.", nameof(Output));
        if (Normalization is { } n)
        {
            if (n.Mean is null || n.Std is null || n.Mean.Count != network.InChannels || n.Std.Count != network.InChannels)
                throw new ArgumentException($"{nameof(Normalization)} must give one mean and one std per input channel ({network.InChannels}); got {n.Mean?.Count ?? 0} and {n.Std?.Count ?? 0}. Use null for no normalization.", nameof(Normalization));
            if (n.Std.Any(s => !(s > 0)) || n.Mean.Any(m => !float.IsFinite(m)))
                throw new ArgumentException($"{nameof(Normalization)} needs finite means and positive stds; got mean [{string.Join(", ", n.Mean)}], std [{string.Join(", ", n.Std)}].", nameof(Normalization));
            if (n.MeanImage is { } image && (ImageHeight is null || ImageWidth is null || image.Count != (long)network.InChannels * ImageHeight.Value * ImageWidth.Value))
                throw new ArgumentException($"{nameof(Normalization)}.{nameof(InputNormalization.MeanImage)} needs a fixed input size with {network.InChannels} x height x width values; got {image.Count} for {ImageHeight?.ToString() ?? "dynamic"} x {ImageWidth?.ToString() ?? "dynamic"}.", nameof(Normalization));
        }
        if (string.IsNullOrWhiteSpace(InputName))
            throw new ArgumentException($"{nameof(InputName)} must not be empty.", nameof(InputName));
        if (string.IsNullOrWhiteSpace(OutputName) || OutputName == InputName)
            throw new ArgumentException($"{nameof(OutputName)} must be non-empty and differ from {nameof(InputName)}; got '{OutputName}'.", nameof(OutputName));
        if (ImageHeight < 1 || ImageWidth < 1)
            throw new ArgumentException($"{nameof(ImageHeight)} and {nameof(ImageWidth)} must be positive, or null for a dynamic size; got {ImageHeight} and {ImageWidth}.", nameof(ImageHeight));
    }
}
