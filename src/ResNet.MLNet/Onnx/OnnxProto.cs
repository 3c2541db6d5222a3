using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ResNet.MLNet.Onnx;

// The ONNX messages the exporter writes, with onnx.proto's field numbers. Each message writes
// itself with ProtoWriter; nothing here knows about ResNets.

/// <summary>TensorProto.DataType values used by the exporter.</summary>
internal enum OnnxDataType
{
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    Int32 = 6,
    Int64 = 7,
}

/// <summary>A TensorProto holding its values as little-endian <c>raw_data</c>.</summary>
internal sealed class OnnxTensor
{
    private OnnxTensor(string name, IReadOnlyList<long> dims, OnnxDataType dataType, byte[] rawData)
    {
        Name = name;
        Dims = dims;
        DataType = dataType;
        RawData = rawData;
    }

    public string Name { get; }
    public IReadOnlyList<long> Dims { get; }
    public OnnxDataType DataType { get; }
    public byte[] RawData { get; }

    public static OnnxTensor Floats(string name, IReadOnlyList<long> dims, ReadOnlySpan<float> values) =>
        Create(name, dims, OnnxDataType.Float, values);

    public static OnnxTensor Int64s(string name, IReadOnlyList<long> dims, ReadOnlySpan<long> values) =>
        Create(name, dims, OnnxDataType.Int64, values);

    public static OnnxTensor Int32s(string name, IReadOnlyList<long> dims, ReadOnlySpan<int> values) =>
        Create(name, dims, OnnxDataType.Int32, values);

    public static OnnxTensor Int8s(string name, IReadOnlyList<long> dims, ReadOnlySpan<sbyte> values) =>
        Create(name, dims, OnnxDataType.Int8, values);

    public static OnnxTensor UInt8s(string name, IReadOnlyList<long> dims, ReadOnlySpan<byte> values) =>
        Create(name, dims, OnnxDataType.UInt8, values);

    /// <summary>The values of a float tensor.</summary>
    public float[] ToFloats()
    {
        if (DataType != OnnxDataType.Float)
            throw new InvalidOperationException($"Tensor '{Name}' holds {DataType}, not Float.");
        var values = MemoryMarshal.Cast<byte, float>(RawData).ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            for (int i = 0; i < values.Length; i++)
                values[i] = BitConverter.Int32BitsToSingle(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(BitConverter.SingleToInt32Bits(values[i])));
        }
        return values;
    }

    public void WriteTo(ProtoWriter w)
    {
        w.Int64s(1, Dims);
        w.Int64(2, (long)DataType);
        w.String(8, Name);
        w.Bytes(9, RawData);
    }

    private static OnnxTensor Create<T>(string name, IReadOnlyList<long> dims, OnnxDataType dataType, ReadOnlySpan<T> values)
        where T : unmanaged
    {
        long expected = dims.Aggregate(1L, (a, d) => a * d);
        if (expected != values.Length)
            throw new ArgumentException($"Tensor '{name}' has shape [{string.Join(", ", dims)}] but {values.Length} values.", nameof(dims));
        byte[] raw = MemoryMarshal.AsBytes(values).ToArray();
        if (!BitConverter.IsLittleEndian) // raw_data is little-endian whatever the machine
        {
            int size = Unsafe.SizeOf<T>();
            for (int i = 0; i < raw.Length; i += size)
                raw.AsSpan(i, size).Reverse();
        }
        return new OnnxTensor(name, dims, dataType, raw);
    }
}

/// <summary>An AttributeProto of one of the types a ResNet graph needs (INT, INTS, FLOAT).</summary>
internal sealed class OnnxAttribute
{
    private const int TypeFloat = 1;
    private const int TypeInt = 2;
    private const int TypeInts = 7;

    private readonly int type;
    private readonly Action<ProtoWriter> writeValue;

    private OnnxAttribute(string name, int type, Action<ProtoWriter> writeValue)
    {
        Name = name;
        this.type = type;
        this.writeValue = writeValue;
    }

    public string Name { get; }

    public static OnnxAttribute Int(string name, long value) => new(name, TypeInt, w => w.Int64(3, value));

    public static OnnxAttribute Ints(string name, params long[] values) => new(name, TypeInts, w => w.Int64s(8, values));

    public static OnnxAttribute Float(string name, float value) => new(name, TypeFloat, w => w.Float(2, value));

    public void WriteTo(ProtoWriter w)
    {
        w.String(1, Name);
        writeValue(w);
        w.Int64(20, type);
    }
}

/// <summary>A NodeProto in the default (ai.onnx) domain.</summary>
internal sealed record OnnxNode(string OpType, string Name, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs, IReadOnlyList<OnnxAttribute> Attributes)
{
    public void WriteTo(ProtoWriter w)
    {
        foreach (string input in Inputs)
            w.String(1, input);
        foreach (string output in Outputs)
            w.String(2, output);
        w.String(3, Name);
        w.String(4, OpType);
        foreach (var attribute in Attributes)
            w.Message(5, attribute.WriteTo);
    }
}

/// <summary>One dimension of a tensor shape: a fixed size, or a symbolic name such as <c>batch</c>.</summary>
internal readonly record struct OnnxDim(long Value, string? Param = null)
{
    public static implicit operator OnnxDim(long value) => new(value);

    public static implicit operator OnnxDim(string param) => new(0, param);

    public void WriteTo(ProtoWriter w)
    {
        if (Param is null)
            w.Int64(1, Value);
        else
            w.String(2, Param);
    }
}

/// <summary>A ValueInfoProto for a tensor: name, element type and shape (null: unknown, no shape is written).</summary>
internal sealed record OnnxValueInfo(string Name, OnnxDataType ElementType, IReadOnlyList<OnnxDim>? Shape)
{
    public void WriteTo(ProtoWriter w)
    {
        w.String(1, Name);
        w.Message(2, type => type.Message(1, tensor =>       // TypeProto.tensor_type
        {
            tensor.Int64(1, (long)ElementType);
            if (Shape is null)
                return;
            tensor.Message(2, shape =>                       // TensorShapeProto
            {
                foreach (var dim in Shape)
                    shape.Message(1, dim.WriteTo);
            });
        }));
    }
}

/// <summary>A GraphProto. Initializers are not repeated among the inputs (allowed since IR version 4).</summary>
internal sealed record OnnxGraph(
    string Name,
    IReadOnlyList<OnnxNode> Nodes,
    IReadOnlyList<OnnxTensor> Initializers,
    IReadOnlyList<OnnxValueInfo> Inputs,
    IReadOnlyList<OnnxValueInfo> Outputs)
{
    public void WriteTo(ProtoWriter w)
    {
        foreach (var node in Nodes)
            w.Message(1, node.WriteTo);
        w.String(2, Name);
        foreach (var tensor in Initializers)
            w.Message(5, tensor.WriteTo);
        foreach (var input in Inputs)
            w.Message(11, input.WriteTo);
        foreach (var output in Outputs)
            w.Message(12, output.WriteTo);
    }
}

/// <summary>A ModelProto importing one opset of the default domain.</summary>
internal sealed record OnnxModel(
    OnnxGraph Graph,
    long IrVersion,
    long OpsetVersion,
    string ProducerName,
    string ProducerVersion,
    string DocString,
    IReadOnlyList<KeyValuePair<string, string>> Metadata)
{
    /// <summary>Protobuf messages are limited to 2 GiB; bigger models need ONNX external data, which this writer does not produce.</summary>
    public const long MaxSize = int.MaxValue;

    /// <summary>The model as the bytes of an .onnx file.</summary>
    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        WriteTo(stream);
        return stream.ToArray();
    }

    public void WriteTo(Stream stream)
    {
        long size = ProtoWriter.Measure(WriteTo);
        if (size > MaxSize)
            throw new NotSupportedException($"The ONNX model would take {size:N0} bytes; a protobuf file is limited to 2 GiB.");
        var buffered = new BufferedStream(stream, 1 << 16);
        WriteTo(new ProtoWriter(buffered));
        buffered.Flush(); // not disposed: the caller owns the stream
    }

    private void WriteTo(ProtoWriter w)
    {
        w.Int64(1, IrVersion);
        w.String(2, ProducerName);
        w.String(3, ProducerVersion);
        w.String(6, DocString);
        w.Message(7, Graph.WriteTo);
        w.Message(8, opset => opset.Int64(2, OpsetVersion)); // domain 1 left empty: ai.onnx
        foreach (var (key, value) in Metadata)
        {
            w.Message(14, entry =>
            {
                entry.String(1, key);
                entry.String(2, value);
            });
        }
    }
}
