using System.Buffers.Binary;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Onnx;

/// <summary>
/// Reads the protocol buffers wire format over bytes in memory, the counterpart of <see cref="ProtoWriter"/>. Every length
/// is checked against the bytes that remain before anything is sliced, nested messages are read by sub-readers over a
/// slice (so a message cannot read past its own end), and every error is an <see cref="InvalidDataException"/> naming
/// the source and the absolute byte offset. Nothing is allocated but what the caller asks for.
/// </summary>
internal sealed class ProtoReader
{
    public const int WireVarint = 0;
    public const int WireFixed64 = 1;
    public const int WireLengthDelimited = 2;
    public const int WireFixed32 = 5;

    private readonly ByteCursor cursor;
    private readonly long baseOffset;

    /// <summary>A reader over <paramref name="data"/>, whose first byte is at <paramref name="baseOffset"/> in <paramref name="source"/>.</summary>
    public ProtoReader(ReadOnlyMemory<byte> data, string source, long baseOffset = 0)
    {
        cursor = new ByteCursor(data, source, baseOffset);
        this.baseOffset = baseOffset;
    }

    /// <summary>Whether bytes remain.</summary>
    public bool HasMore => cursor.Remaining > 0;

    /// <summary>The offset of the next byte in the source.</summary>
    public long Offset => baseOffset + cursor.Position;

    /// <summary>An error at the current offset (or at the absolute <paramref name="offset"/>).</summary>
    public InvalidDataException Error(string message, long? offset = null) => cursor.Error(message, offset - baseOffset);

    /// <summary>The next field's number and wire type; refuses field 0, groups and unknown wire types.</summary>
    public (int Field, int WireType) ReadTag()
    {
        long at = Offset;
        ulong tag = ReadVarint();
        int wireType = (int)(tag & 7);
        ulong field = tag >> 3;
        if (field == 0 || field > int.MaxValue || wireType is not (WireVarint or WireFixed64 or WireLengthDelimited or WireFixed32))
            throw Error($"invalid protobuf tag {tag} (field {field}, wire type {wireType})", at);
        return ((int)field, wireType);
    }

    /// <summary>A base-128 varint of at most 10 bytes.</summary>
    public ulong ReadVarint()
    {
        long at = Offset;
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            byte b = cursor.ReadByte();
            if (shift == 63 && b > 1)
                break;
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
                return value;
        }
        throw Error("varint longer than 64 bits", at);
    }

    /// <summary>An int64 (or int32, enum) varint field, two's complement.</summary>
    public long ReadInt64() => (long)ReadVarint();

    /// <summary>A fixed32 field as a float.</summary>
    public float ReadFloat() => BinaryPrimitives.ReadSingleLittleEndian(cursor.ReadBytes(4L).Span);

    /// <summary>A length-delimited field's bytes (checked against what remains) and the offset of its first byte.</summary>
    public (ReadOnlyMemory<byte> Bytes, long Offset) ReadLengthDelimited()
    {
        ulong length = ReadVarint();
        long at = Offset;
        return (cursor.ReadBytes(length), at);
    }

    /// <summary>A nested message's reader.</summary>
    public ProtoReader ReadMessage()
    {
        var (bytes, at) = ReadLengthDelimited();
        return new ProtoReader(bytes, cursor.Source, at);
    }

    /// <summary>The bytes from the absolute <paramref name="offset"/>, <paramref name="length"/> long, of what this reader reads.</summary>
    public ReadOnlyMemory<byte> Slice(long offset, long length) => cursor.Data.Slice((int)(offset - baseOffset), (int)length);

    /// <summary>A string field, strict UTF-8.</summary>
    public string ReadString() => cursor.ReadUtf8(ReadVarint());

    /// <summary>Skips a field of <paramref name="wireType"/>.</summary>
    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case WireVarint: ReadVarint(); break;
            case WireFixed64: cursor.ReadBytes(8L); break;
            case WireFixed32: cursor.ReadBytes(4L); break;
            default: ReadLengthDelimited(); break;
        }
    }

    /// <summary>
    /// Appends a repeated int64 field, packed (length-delimited) or not (one varint); a packed run cannot hold more values
    /// than it has bytes, so the list grows only as far as the input allows.
    /// </summary>
    public void ReadInt64s(int wireType, List<long> values)
    {
        if (wireType == WireVarint)
        {
            values.Add(ReadInt64());
            return;
        }
        Expect(wireType, WireLengthDelimited, "packed int64s");
        var packed = ReadMessage();
        while (packed.HasMore)
            values.Add(packed.ReadInt64());
    }

    /// <summary>Appends a repeated float field, packed (a multiple of 4 bytes) or not (one fixed32).</summary>
    public void ReadFloats(int wireType, List<float> values)
    {
        if (wireType == WireFixed32)
        {
            values.Add(ReadFloat());
            return;
        }
        Expect(wireType, WireLengthDelimited, "packed floats");
        var (bytes, at) = ReadLengthDelimited();
        if (bytes.Length % 4 != 0)
            throw Error($"packed floats of {bytes.Length} bytes, not a multiple of 4", at);
        for (int i = 0; i < bytes.Length; i += 4)
            values.Add(BinaryPrimitives.ReadSingleLittleEndian(bytes.Span[i..]));
    }

    /// <summary>Refuses a field whose wire type is not the one its schema gives it.</summary>
    public void Expect(int wireType, int expected, string what)
    {
        if (wireType != expected)
            throw Error($"{what} with wire type {wireType}; expected {expected}");
    }
}
