using System.Buffers.Binary;
using System.Runtime.InteropServices;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Onnx;

/// <summary>An attribute of a node, as read: one of INT, INTS, FLOAT, FLOATS, STRING (other types keep only their name and type).</summary>
internal sealed record OnnxAttributeValue(string Name, int Type, long Int, float Float, string? Text, IReadOnlyList<long> Ints, IReadOnlyList<float> Floats)
{
    public const int TypeFloat = 1;
    public const int TypeInt = 2;
    public const int TypeString = 3;
    public const int TypeFloats = 6;
    public const int TypeInts = 7;
}

/// <summary>A node as read, with its position in the graph's node list.</summary>
internal sealed record OnnxNodeInfo(int Index, string Name, string OpType, string Domain, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs,
    IReadOnlyDictionary<string, OnnxAttributeValue> Attributes)
{
    /// <summary>How error messages name the node: name, op type and first output.</summary>
    public override string ToString() => $"node #{Index} '{Name}' ({OpType}, output '{(Outputs.Count > 0 ? Outputs[0] : "")}')";

    public long Int(string name, long defaultValue) => Attributes.TryGetValue(name, out var a) ? a.Int : defaultValue;

    public float Float(string name, float defaultValue) => Attributes.TryGetValue(name, out var a) ? a.Float : defaultValue;

    public IReadOnlyList<long>? Ints(string name) => Attributes.TryGetValue(name, out var a) ? a.Ints : null;

    public string? Text(string name) => Attributes.TryGetValue(name, out var a) ? a.Text : null;
}

/// <summary>
/// A graph input or output: its name and, when the file gives them, its dimensions (null for a symbolic or absent one).
/// </summary>
internal sealed record OnnxValueShape(string Name, IReadOnlyList<long?>? Dims);

/// <summary>
/// An initializer as read: name, dims, TensorProto data type and its data, still in the file's bytes. Values are
/// decoded by <see cref="ToFloats"/> only after their count is checked against the dims.
/// </summary>
internal sealed class OnnxInitializer
{
    public const int Float32 = 1;
    public const int Float16 = 10;
    public const int Float64 = 11;

    private readonly ReadOnlyMemory<byte> raw;       // raw_data, or the packed float_data / double_data
    private readonly IReadOnlyList<long>? int32Data; // int32_data (float16 bit patterns)
    private readonly string source;

    internal OnnxInitializer(string source, long offset, string name, IReadOnlyList<long> dims, int dataType, ReadOnlyMemory<byte> raw, IReadOnlyList<long>? int32Data)
    {
        this.source = source;
        Offset = offset;
        Name = name;
        Dims = dims;
        DataType = dataType;
        this.raw = raw;
        this.int32Data = int32Data;
    }

    public string Name { get; }

    public IReadOnlyList<long> Dims { get; }

    /// <summary>TensorProto.DataType (1 float, 10 float16, 11 double, ...).</summary>
    public int DataType { get; }

    /// <summary>Where the TensorProto starts in the file.</summary>
    public long Offset { get; }

    /// <summary>
    /// The values as float32 (float16 and double are converted), C order. Refuses other types, and data whose size
    /// does not match the dims, before allocating anything.
    /// </summary>
    public float[] ToFloats()
    {
        var values = new float[CheckedCount()];
        Decode(values);
        return values;
    }

    /// <summary>The values as little-endian float32 bytes, ready for a <see cref="NamedTensor"/>; checked as <see cref="ToFloats"/>.</summary>
    public byte[] ToFloat32Bytes()
    {
        var bytes = new byte[checked(CheckedCount() * sizeof(float))];
        Decode(MemoryMarshal.Cast<byte, float>(bytes.AsSpan()));
        if (!BitConverter.IsLittleEndian) // Decode wrote native floats; NamedTensor data is little-endian
        {
            for (int i = 0; i < bytes.Length; i += sizeof(float))
                bytes.AsSpan(i, sizeof(float)).Reverse();
        }
        return bytes;
    }

    /// <summary>The element count of the dims, once the data is known to hold exactly that many values of the data type.</summary>
    private long CheckedCount()
    {
        long count = NamedTensor.ElementCountOf(Dims)
            ?? throw Error($"has invalid dims [{string.Join(", ", Dims)}]");
        int size = DataType switch
        {
            Float32 => 4,
            Float16 => 2,
            Float64 => 8,
            _ => throw Error($"has data type {DataType}; only float (1), float16 (10) and double (11) initializers can be imported"),
        };
        bool halfInts = int32Data is { Count: > 0 };
        if (halfInts && (DataType != Float16 || raw.Length > 0))
            throw Error($"of data type {DataType} holds int32_data{(raw.Length > 0 ? " and other data" : "")}; expected float16 bit patterns only");
        long available = halfInts ? int32Data!.Count : raw.Length / size;
        if ((!halfInts && raw.Length % size != 0) || available != count)
            throw Error($"of dims [{string.Join(", ", Dims)}] holds {(halfInts ? $"{available} values" : $"{raw.Length} bytes")}; expected {count} values of {size} bytes");
        if (count > Array.MaxLength / sizeof(float))
            throw Error($"has {count} values, more than one array can hold");
        return count;
    }

    private void Decode(Span<float> values)
    {
        if (int32Data is { Count: > 0 })
        {
            for (int i = 0; i < values.Length; i++)
                values[i] = (float)BitConverter.UInt16BitsToHalf((ushort)int32Data[i]);
            return;
        }
        var bytes = raw.Span;
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = DataType switch
            {
                Float32 => BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]),
                Float16 => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(2 * i)..]),
                _ => (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes[(8 * i)..]),
            };
        }
    }

    private InvalidDataException Error(string message) => new($"{source}: initializer '{Name}' {message} (at byte {Offset}).");
}

/// <summary>What <see cref="OnnxModelReader"/> reads from a ModelProto: the main graph's nodes, initializers, inputs and outputs.</summary>
internal sealed record OnnxModelInfo(
    string Source,
    long IrVersion,
    string ProducerName,
    string ProducerVersion,
    long OpsetVersion,
    IReadOnlyList<OnnxNodeInfo> Nodes,
    IReadOnlyDictionary<string, OnnxInitializer> Initializers,
    IReadOnlyList<OnnxValueShape> Inputs,
    IReadOnlyList<OnnxValueShape> Outputs);

/// <summary>
/// A minimal, hostile-file-safe decoder of ONNX ModelProto files, enough to import weights: nodes (name, op type,
/// inputs, outputs, INT/INTS/FLOAT/FLOATS/STRING attributes), initializers (name, dims, type, data left in place),
/// graph input and output names and shapes, the default-domain opset and the producer. The field numbers are onnx.proto's,
/// as in the writer's OnnxProto.cs. Recursion is bounded by construction: only the fixed chain of known message
/// types is descended (model, graph, node, attribute, tensor, value info, type, shape), and subgraphs and other fields
/// are skipped unparsed. Nothing in the file is executed. Malformed input fails with <see cref="InvalidDataException"/>
/// naming the file and the byte offset.
/// </summary>
internal static class OnnxModelReader
{
    /// <summary>Reads an ONNX file (whole, at most 2 GiB, as protobuf allows).</summary>
    public static OnnxModelInfo Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = File.OpenRead(path);
        return Read(WeightsFile.ReadAllBytes(stream, path), path);
    }

    /// <summary>Reads ONNX bytes; <paramref name="source"/> names them in error messages.</summary>
    public static OnnxModelInfo Read(ReadOnlyMemory<byte> bytes, string source)
    {
        var r = new ProtoReader(bytes, source);
        long irVersion = 0, opset = 0;
        string producer = "", producerVersion = "";
        ProtoReader? graph = null;
        while (r.HasMore)
        {
            var (field, wire) = r.ReadTag();
            switch (field)
            {
                case 1 when wire == ProtoReader.WireVarint: irVersion = r.ReadInt64(); break;
                case 2 when wire == ProtoReader.WireLengthDelimited: producer = r.ReadString(); break;
                case 3 when wire == ProtoReader.WireLengthDelimited: producerVersion = r.ReadString(); break;
                case 7 when wire == ProtoReader.WireLengthDelimited: graph = r.ReadMessage(); break;
                case 8 when wire == ProtoReader.WireLengthDelimited:
                    var (domain, version) = ReadOpset(r.ReadMessage());
                    if (domain is "" or "ai.onnx")
                        opset = version;
                    break;
                default: r.Skip(wire); break;
            }
        }
        if (graph is null)
            throw r.Error("not an ONNX model: no graph (ModelProto field 7)");
        if (irVersion <= 0)
            throw r.Error($"not an ONNX model: IR version {irVersion}");
        if (opset <= 0) // required by the spec; its absence also gives away a file cut right after the graph
            throw r.Error("not a complete ONNX model: no opset import for the default domain");
        var (nodes, initializers, inputs, outputs) = ReadGraph(graph, source);
        return new OnnxModelInfo(source, irVersion, producer, producerVersion, opset, nodes, initializers, inputs, outputs);
    }

    /// <summary>One initializer of <paramref name="path"/>'s main graph as float32 values, with its dims.</summary>
    /// <exception cref="InvalidDataException">The file is malformed, has no such initializer, or the initializer is not a float type.</exception>
    public static (float[] Values, IReadOnlyList<long> Dims) ReadInitializer(string path, string name)
    {
        var model = Read(path);
        if (!model.Initializers.TryGetValue(name, out var initializer))
            throw new InvalidDataException($"{path}: no initializer named '{name}'; the graph has {model.Initializers.Count} ({string.Join(", ", model.Initializers.Keys.Take(10))}{(model.Initializers.Count > 10 ? ", ..." : "")}).");
        return (initializer.ToFloats(), initializer.Dims);
    }

    private static (string Domain, long Version) ReadOpset(ProtoReader r)
    {
        string domain = "";
        long version = 0;
        while (r.HasMore)
        {
            var (field, wire) = r.ReadTag();
            if (field == 1 && wire == ProtoReader.WireLengthDelimited)
                domain = r.ReadString();
            else if (field == 2 && wire == ProtoReader.WireVarint)
                version = r.ReadInt64();
            else
                r.Skip(wire);
        }
        return (domain, version);
    }

    private static (List<OnnxNodeInfo>, Dictionary<string, OnnxInitializer>, List<OnnxValueShape>, List<OnnxValueShape>) ReadGraph(ProtoReader r, string source)
    {
        var nodes = new List<OnnxNodeInfo>();
        var initializers = new Dictionary<string, OnnxInitializer>(StringComparer.Ordinal);
        var inputs = new List<OnnxValueShape>();
        var outputs = new List<OnnxValueShape>();
        while (r.HasMore)
        {
            var (field, wire) = r.ReadTag();
            if (wire != ProtoReader.WireLengthDelimited || field is not (1 or 5 or 11 or 12))
            {
                r.Skip(wire);
                continue;
            }
            long at = r.Offset;
            var message = r.ReadMessage();
            switch (field)
            {
                case 1:
                    nodes.Add(ReadNode(message, nodes.Count));
                    break;
                case 5:
                    var tensor = ReadTensor(message, source, at);
                    if (!initializers.TryAdd(tensor.Name, tensor))
                        throw r.Error($"two initializers are named '{tensor.Name}'", at);
                    break;
                case 11:
                    inputs.Add(ReadValueInfo(message));
                    break;
                default:
                    outputs.Add(ReadValueInfo(message));
                    break;
            }
        }
        // IR versions before 4 list every initializer among the inputs too; the graph's real inputs are the others.
        inputs.RemoveAll(i => initializers.ContainsKey(i.Name));
        return (nodes, initializers, inputs, outputs);
    }

    private static OnnxNodeInfo ReadNode(ProtoReader r, int index)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new Dictionary<string, OnnxAttributeValue>(StringComparer.Ordinal);
        string name = "", opType = "", domain = "";
        while (r.HasMore)
        {
            var (field, wire) = r.ReadTag();
            if (wire != ProtoReader.WireLengthDelimited || field is not (1 or 2 or 3 or 4 or 5 or 7))
            {
                r.Skip(wire);
                continue;
            }
            long at = r.Offset;
            switch (field)
            {
                case 1: inputs.Add(r.ReadString()); break;
                case 2: outputs.Add(r.ReadString()); break;
                case 3: name = r.ReadString(); break;
                case 4: opType = r.ReadString(); break;
                case 7: domain = r.ReadString(); break;
                default:
                    var attribute = ReadAttribute(r.ReadMessage());
                    if (!attributes.TryAdd(attribute.Name, attribute))
                        throw r.Error($"node '{name}' has two attributes named '{attribute.Name}'", at);
                    break;
            }
        }
        return new OnnxNodeInfo(index, name, opType, domain, inputs, outputs, attributes);
    }

    private static OnnxAttributeValue ReadAttribute(ProtoReader r)
    {
        string name = "";
        string? text = null;
        long i = 0, type = 0;
        float f = 0;
        var ints = new List<long>();
        var floats = new List<float>();
        while (r.HasMore)
        {
            var (field, wire) = r.ReadTag();
            switch (field)
            {
                case 1 when wire == ProtoReader.WireLengthDelimited: name = r.ReadString(); break;
                case 2 when wire == ProtoReader.WireFixed32: f = r.ReadFloat(); break;
                case 3 when wire == ProtoReader.WireVarint: i = r.ReadInt64(); break;
                case 4 when wire == ProtoReader.WireLengthDelimited: text = r.ReadString(); break;
                case 7: r.ReadFloats(wire, floats); break;
                case 8: r.ReadInt64s(wire, ints); break;
                case 20 when wire == ProtoReader.WireVarint: type = r.ReadInt64(); break;
                default: r.Skip(wire); break;
            }
        }
        return new OnnxAttributeValue(name, (int)type, i, f, text, ints, floats);
    }

    private static OnnxInitializer ReadTensor(ProtoReader r, string source, long offset)
    {
        string name = "";
        long dataType = 0;
        var dims = new List<long>();
        var int32Data = new List<long>();
        var data = new ChunkedBytes();
        bool external = false;
        while (r.HasMore)
        {
            var (field, wire) = r.ReadTag();
            switch (field)
            {
                case 1: r.ReadInt64s(wire, dims); break;
                case 2 when wire == ProtoReader.WireVarint: dataType = r.ReadInt64(); break;
                case 4 when wire == ProtoReader.WireFixed32: // float_data, unpacked
                case 10 when wire == ProtoReader.WireFixed64: // double_data, unpacked
                    long at = r.Offset;
                    r.Skip(wire);
                    data.Add(r.Slice(at, r.Offset - at));
                    break;
                case 4 or 9 or 10 when wire == ProtoReader.WireLengthDelimited: // float_data or double_data packed, raw_data
                    data.Add(r.ReadLengthDelimited().Bytes);
                    break;
                case 5: r.ReadInt64s(wire, int32Data); break;
                case 8 when wire == ProtoReader.WireLengthDelimited: name = r.ReadString(); break;
                case 13: external = true; r.Skip(wire); break;
                case 14 when wire == ProtoReader.WireVarint: external |= r.ReadInt64() == 1; break;
                default: r.Skip(wire); break;
            }
        }
        if (external)
            throw new InvalidDataException($"{source}: initializer '{name}' is stored in external data files, which this reader does not support (at byte {offset}).");
        return new OnnxInitializer(source, offset, name, dims, (int)dataType, data.Bytes, int32Data);
    }

    private static OnnxValueShape ReadValueInfo(ProtoReader r)
    {
        string name = "";
        List<long?>? dims = null;
        while (r.HasMore)
        {
            var (field, wire) = r.ReadTag();
            if (field == 1 && wire == ProtoReader.WireLengthDelimited)
                name = r.ReadString();
            else if (field == 2 && wire == ProtoReader.WireLengthDelimited)
                dims = ReadTensorShape(r.ReadMessage());
            else
                r.Skip(wire);
        }
        return new OnnxValueShape(name, dims);
    }

    /// <summary>TypeProto -> tensor_type (1) -> shape (2) -> dim (1) -> dim_value (1); null when the type is not a tensor with a shape.</summary>
    private static List<long?>? ReadTensorShape(ProtoReader type)
    {
        List<long?>? dims = null;
        foreach (var tensorType in Messages(type, 1))
        {
            foreach (var shape in Messages(tensorType, 2))
            {
                dims = [];
                foreach (var dim in Messages(shape, 1))
                {
                    long? value = null;
                    while (dim.HasMore)
                    {
                        var (field, wire) = dim.ReadTag();
                        if (field == 1 && wire == ProtoReader.WireVarint)
                            value = dim.ReadInt64();
                        else
                            dim.Skip(wire);
                    }
                    dims.Add(value);
                }
            }
        }
        return dims;
    }

    /// <summary>The nested messages of field <paramref name="field"/>, other fields skipped.</summary>
    private static IEnumerable<ProtoReader> Messages(ProtoReader r, int field)
    {
        while (r.HasMore)
        {
            var (f, wire) = r.ReadTag();
            if (f == field && wire == ProtoReader.WireLengthDelimited)
                yield return r.ReadMessage();
            else
                r.Skip(wire);
        }
    }

    /// <summary>Bytes that usually come in one slice of the file (kept without a copy) and are merged only when a field repeats.</summary>
    private sealed class ChunkedBytes
    {
        private ReadOnlyMemory<byte> first;
        private MemoryStream? merged;
        private int count;

        public ReadOnlyMemory<byte> Bytes => merged is null ? first : merged.GetBuffer().AsMemory(0, (int)merged.Length);

        public void Add(ReadOnlyMemory<byte> bytes)
        {
            if (count++ == 0)
            {
                first = bytes;
                return;
            }
            if (merged is null)
            {
                merged = new MemoryStream();
                merged.Write(first.Span);
            }
            merged.Write(bytes.Span);
        }
    }
}
