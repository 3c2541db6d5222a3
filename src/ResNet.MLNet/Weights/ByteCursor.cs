using System.Buffers.Binary;
using System.Text;

namespace ResNet.MLNet.Weights;

/// <summary>
/// Bounds-checked sequential reads over bytes held in memory. Every read past the end, and every length that
/// the remaining bytes cannot hold, throws <see cref="InvalidDataException"/> naming the source and the offset.
/// </summary>
internal sealed class ByteCursor(ReadOnlyMemory<byte> data, string source, long baseOffset = 0)
{
    /// <summary>UTF-8 that throws on invalid bytes instead of replacing them.</summary>
    public static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The file (or file and entry) named in error messages.</summary>
    public string Source { get; } = source;

    /// <summary>Offset of the next byte, relative to the start of <c>data</c>.</summary>
    public int Position { get; set; }

    /// <summary>Bytes not read yet.</summary>
    public int Remaining => data.Length - Position;

    /// <summary>The whole buffer.</summary>
    public ReadOnlyMemory<byte> Data => data;

    /// <summary>An error at the current offset (or <paramref name="offset"/>).</summary>
    public InvalidDataException Error(string message, long? offset = null) =>
        new($"{Source}: {message} (at byte {baseOffset + (offset ?? Position)}).");

    public byte ReadByte()
    {
        Need(1);
        return data.Span[Position++];
    }

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public double ReadDoubleBigEndian() => BinaryPrimitives.ReadDoubleBigEndian(Take(8));

    /// <summary>The next <paramref name="length"/> bytes, refused when fewer remain (so no length allocates more than the input holds).</summary>
    public ReadOnlyMemory<byte> ReadBytes(long length)
    {
        Need(length);
        var slice = data.Slice(Position, (int)length);
        Position += (int)length;
        return slice;
    }

    /// <summary>The next <paramref name="length"/> bytes, for lengths read as unsigned 64-bit integers.</summary>
    public ReadOnlyMemory<byte> ReadBytes(ulong length) =>
        length > (ulong)Remaining ? throw Error($"declared length {length} exceeds the {Remaining} bytes that remain") : ReadBytes((long)length);

    /// <summary>The next <paramref name="length"/> bytes decoded as UTF-8, refused when they are not valid UTF-8.</summary>
    public string ReadUtf8(ulong length)
    {
        int at = Position;
        var bytes = ReadBytes(length);
        try
        {
            return StrictUtf8.GetString(bytes.Span);
        }
        catch (DecoderFallbackException)
        {
            throw Error("string is not valid UTF-8", at);
        }
    }

    /// <summary>Bytes up to (not including) the next <c>\n</c>, which is consumed; at most <paramref name="maxLength"/> bytes.</summary>
    public ReadOnlySpan<byte> ReadLine(int maxLength)
    {
        var rest = data.Span[Position..];
        int end = rest[..Math.Min(rest.Length, maxLength + 1)].IndexOf((byte)'\n');
        if (end < 0)
            throw Error($"expected a line of at most {maxLength} bytes ending in a newline");
        Position += end + 1;
        return rest[..end];
    }

    /// <summary>An unsigned LEB128 (.NET 7-bit encoded) integer of at most 63 bits.</summary>
    public long ReadUleb128()
    {
        long value = 0;
        for (int shift = 0; shift < 63; shift += 7)
        {
            byte b = ReadByte();
            value |= (long)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
                return value;
        }
        throw Error("variable-length integer longer than 63 bits");
    }

    private ReadOnlySpan<byte> Take(int length)
    {
        Need(length);
        var span = data.Span.Slice(Position, length);
        Position += length;
        return span;
    }

    private void Need(long length)
    {
        if (length < 0 || length > Remaining)
            throw Error(length < 0 ? $"negative length {length}" : $"needs {length} bytes but only {Remaining} remain");
    }
}
