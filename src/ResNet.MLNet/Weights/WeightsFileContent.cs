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
    public int? NumClasses =>
        WeightsNameMapping.MapKeys(Tensors).ByKey.GetValueOrDefault(WeightsNameMapping.Classifier + "weight") is { Shape.Count: 2 or 4 } head
            ? (int)head.Shape[0]
            : null;
}
