using static TorchSharp.torch;

namespace ResNet.MLNet.Onnx;

/// <summary>
/// Collects the nodes and initializers of an ONNX graph in topological order. Every node has one output, named
/// like the node; names are made unique (a clash gets a <c>_1</c>, <c>_2</c> suffix) and the graph's input and
/// output names are reserved up front, so no internal value can take them.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    private readonly List<OnnxNode> nodes = [];
    private readonly List<OnnxTensor> initializers = [];
    private readonly HashSet<string> names = new(StringComparer.Ordinal);

    /// <summary>A builder whose graph reads <paramref name="inputName"/> and will expose its result as <paramref name="outputName"/>.</summary>
    public OnnxGraphBuilder(string inputName, string outputName)
    {
        InputName = inputName;
        OutputName = outputName;
        names.Add(inputName);
        names.Add(outputName);
    }

    /// <summary>The graph input's value name.</summary>
    public string InputName { get; }

    /// <summary>The graph output's value name, given to the result value in <see cref="Build"/>.</summary>
    public string OutputName { get; }

    /// <summary>Adds a node with one output; returns the output's value name.</summary>
    public string Node(string opType, string name, IReadOnlyList<string> inputs, params OnnxAttribute[] attributes)
    {
        string output = Claim(name);
        nodes.Add(new OnnxNode(opType, output, inputs, [output], attributes));
        return output;
    }

    /// <summary>A float initializer with <paramref name="value"/>'s shape and values (copied to CPU float32).</summary>
    public string Constant(string name, Tensor value)
    {
        using var scope = NewDisposeScope();
        var cpu = value.detach().to(ScalarType.Float32, CPU).contiguous();
        return Constant(name, cpu.shape, cpu.data<float>().ToArray());
    }

    /// <summary>A float initializer.</summary>
    public string Constant(string name, IReadOnlyList<long> dims, ReadOnlySpan<float> values)
    {
        string unique = Claim(name);
        initializers.Add(OnnxTensor.Floats(unique, dims, values));
        return unique;
    }

    /// <summary>A one-dimensional int64 initializer (shapes, pads, slice bounds).</summary>
    public string Int64Constant(string name, params long[] values)
    {
        string unique = Claim(name);
        initializers.Add(OnnxTensor.Int64s(unique, [values.Length], values));
        return unique;
    }

    /// <summary>
    /// The graph. The value <paramref name="result"/> is renamed to <see cref="OutputName"/>, so the last node
    /// writes the graph output directly.
    /// </summary>
    public OnnxGraph Build(string name, OnnxValueInfo input, string result, OnnxValueInfo output)
    {
        if (input.Name != InputName || output.Name != OutputName)
            throw new ArgumentException($"The graph was built for input '{InputName}' and output '{OutputName}'.");
        string Rename(string value) => value == result ? OutputName : value;
        var renamed = nodes.Select(n => n with { Inputs = n.Inputs.Select(Rename).ToArray(), Outputs = n.Outputs.Select(Rename).ToArray() }).ToArray();
        return new OnnxGraph(name, renamed, initializers.ToArray(), [input], [output]);
    }

    private string Claim(string name)
    {
        string unique = name;
        for (int i = 1; !names.Add(unique); i++)
            unique = $"{name}_{i}";
        return unique;
    }
}
