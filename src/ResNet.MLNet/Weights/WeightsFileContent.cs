namespace ResNet.MLNet.Weights;

/// <summary>The weight file formats this library reads and writes.</summary>
public enum WeightsFormat
{
    /// <summary><c>torch.save</c> zip archive (PyTorch 1.6 and later), usually <c>.pth</c> or <c>.pt</c>.</summary>
    PyTorch,
    /// <summary>The pre-1.6 <c>torch.save</c> format (a sequence of pickles); read only.</summary>
    PyTorchLegacy,
    /// <summary>safetensors: a JSON header and raw little-endian tensors.</summary>
    SafeTensors,
    /// <summary>TorchSharp's <c>Module.save</c> format, usually <c>.dat</c> or <c>.bin</c>.</summary>
    TorchSharp,
    /// <summary>
    /// An ONNX model (<c>.onnx</c>) whose graph is a ResNet, imported by <see cref="OnnxWeightsImporter"/>; read only,
    /// recognized by its extension (ONNX has no magic number).
    /// </summary>
    Onnx,
}

/// <summary>What a weight file holds: its format, its tensors in file order and its string metadata.</summary>
/// <param name="Format">The detected format.</param>
/// <param name="Tensors">The tensors, in the file's order (state_dict order for PyTorch and TorchSharp files).</param>
/// <param name="Metadata">
/// safetensors <c>__metadata__</c>; for PyTorch checkpoints that wrap the state_dict, the wrapper's plain top-level
/// values (such as <c>epoch</c> or <c>arch</c>) as strings; empty otherwise.
/// </param>
public sealed record WeightsFileContent(WeightsFormat Format, IReadOnlyList<NamedTensor> Tensors, IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>
    /// Most classes a file's head may declare: 1,048,576 (ImageNet-21k has 21,843). A network built with such a head
    /// holds rows x features floats, so a head is trusted only within this bound and with its data present.
    /// </summary>
    public const int MaxNumClasses = 1 << 20;

    /// <summary>The file the tensors were read from, named in errors; null when read from memory without a name.</summary>
    public string? Source { get; init; }

    /// <summary>Elements of every tensor.</summary>
    public long ElementCount => Tensors.Sum(t => t.ElementCount);

    /// <summary>Elements of the trainable parameters: every tensor but BatchNorm running statistics and counters.</summary>
    public long ParameterCount => Tensors.Where(t => !WeightsNameMapping.IsBuffer(t.Name)).Sum(t => t.ElementCount);

    /// <summary>Bytes of tensor data.</summary>
    public long ByteCount => Tensors.Sum(t => (long)t.Data.Length);

    /// <summary>
    /// Classes of the file's classifier: the rows of <c>fc.weight</c> (or of a timm or Cadene-style head, after a
    /// DataParallel prefix, as <see cref="WeightsLoader"/> maps them); null when the file has no classifier.
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// The head's shape is not (classes, features) or (classes, features, 1, 1) with data behind it, or it declares more
    /// than <see cref="MaxNumClasses"/> classes: a network sized from it would allocate what the file does not hold.
    /// </exception>
    public int? NumClasses => Head()?.Classes;

    /// <summary>
    /// <see cref="NumClasses"/> for a network whose pooled embedding has <paramref name="numFeatures"/> values: the head
    /// must take that many inputs, so that the head built from it holds no more values than the file does.
    /// </summary>
    /// <exception cref="InvalidDataException">See <see cref="NumClasses"/>; or the head takes another number of features.</exception>
    public int? NumClassesFor(int numFeatures)
    {
        if (Head() is not { } head)
            return null;
        if (head.Features != numFeatures)
            throw HeadError(head.Tensor, $"takes {head.Features} features; this network's embedding has {numFeatures}. Use the architecture the weights were trained with");
        return head.Classes;
    }

    private (NamedTensor Tensor, int Classes, long Features)? Head()
    {
        if (WeightsNameMapping.MapKeys(Tensors).ByKey.GetValueOrDefault(WeightsNameMapping.Classifier + "weight") is not { Shape.Count: 2 or 4 } head)
            return null;
        var shape = head.Shape;
        if (shape.Any(d => d < 1) || (shape.Count == 4 && (shape[2] != 1 || shape[3] != 1)))
            throw HeadError(head, "is not a (classes, features) matrix with data");
        if (shape[0] > MaxNumClasses)
            throw HeadError(head, $"declares {shape[0]} classes, more than {MaxNumClasses}");
        return (head, (int)shape[0], shape[1]);
    }

    private InvalidDataException HeadError(NamedTensor head, string why) =>
        new($"{Source ?? "weights"}: classifier tensor '{head.Name}' of shape [{string.Join(", ", head.Shape)}] {why}.");
}
