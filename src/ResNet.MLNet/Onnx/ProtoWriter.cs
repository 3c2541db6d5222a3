using System.Buffers.Binary;
using System.Text;

namespace ResNet.MLNet.Onnx;

/// <summary>
/// The protocol buffers wire format, as much of it as ONNX needs: varints, fixed32 floats, length-delimited strings,
/// bytes and nested messages. A nested message is written with a body delegate that runs twice, once on a
/// counting writer to learn its length and once for real, so no message (and no weight tensor) is buffered.
/// </summary>
internal sealed class ProtoWriter
{
    private const int WireVarint = 0;
    private const int WireLengthDelimited = 2;
    private const int WireFixed32 = 5;

    private readonly Stream? stream; // null: count bytes only
    private readonly byte[] scratch = new byte[10];

    /// <summary>A writer that writes to <paramref name="stream"/>.</summary>
    public ProtoWriter(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        this.stream = stream;
    }

    private ProtoWriter() { }

    /// <summary>Bytes written (or counted) so far.</summary>
    public long Length { get; private set; }

    /// <summary>The encoded length of what <paramref name="body"/> writes.</summary>
    public static long Measure(Action<ProtoWriter> body)
    {
        var counter = new ProtoWriter();
        body(counter);
        return counter.Length;
    }

    /// <summary>An int32, int64, enum or bool field (negative values take ten bytes, as protobuf's int64 does).</summary>
    public void Int64(int field, long value)
    {
        Tag(field, WireVarint);
        Varint((ulong)value);
    }

    /// <summary>Each value as its own int64 field (proto2's unpacked repeated encoding, what onnx itself writes).</summary>
    public void Int64s(int field, IEnumerable<long> values)
    {
        foreach (long value in values)
            Int64(field, value);
    }

    /// <summary>A float field (fixed32, little-endian).</summary>
    public void Float(int field, float value)
    {
        Tag(field, WireFixed32);
        BinaryPrimitives.WriteSingleLittleEndian(scratch, value);
        Raw(scratch.AsSpan(0, 4));
    }

    /// <summary>A string field, UTF-8.</summary>
    public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>A bytes field.</summary>
    public void Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, WireLengthDelimited);
        Varint((ulong)value.Length);
        Raw(value);
    }

    /// <summary>A nested message field whose body <paramref name="body"/> writes.</summary>
    public void Message(int field, Action<ProtoWriter> body)
    {
        long length = Measure(body);
        Tag(field, WireLengthDelimited);
        Varint((ulong)length);
        long start = Length;
        body(this);
        if (Length - start != length)
            throw new InvalidOperationException($"Protobuf message of field {field} wrote {Length - start} bytes after measuring {length}.");
    }

    private void Tag(int field, int wireType) => Varint((ulong)((uint)field << 3 | (uint)wireType));

    private void Varint(ulong value)
    {
        int n = 0;
        while (value >= 0x80)
        {
            scratch[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        scratch[n++] = (byte)value;
        Raw(scratch.AsSpan(0, n));
    }

    private void Raw(ReadOnlySpan<byte> bytes)
    {
        stream?.Write(bytes);
        Length += bytes.Length;
    }
}
