using System.Buffers.Binary;

namespace ResNet.MLNet.Tests.TestSupport;

/// <summary>
/// Small image files whose headers claim what the test needs (decompression bombs, truncations), built byte by byte: only
/// the header has to be right, since the toolkit must refuse them before any decoder sees them.
/// </summary>
internal static class HostileImages
{
    /// <summary>A 28-byte GIF whose logical screen and only frame claim <paramref name="width"/> x <paramref name="height"/>.</summary>
    public static byte[] Gif(ushort width, ushort height, ushort frameWidth = 1, ushort frameHeight = 1)
    {
        var bytes = new List<byte>("GIF89a"u8.ToArray());
        bytes.AddRange(Le16(width));
        bytes.AddRange(Le16(height));
        bytes.AddRange([0, 0, 0]); // no global color table, background, aspect
        bytes.Add(0x2C); // image descriptor
        bytes.AddRange([0, 0, 0, 0]);
        bytes.AddRange(Le16(frameWidth));
        bytes.AddRange(Le16(frameHeight));
        bytes.Add(0);
        bytes.AddRange([2, 1, 0x44, 0]); // LZW minimum code size, one sub-block, terminator
        bytes.Add(0x3B);
        return [.. bytes];
    }

    /// <summary>A PNG with an IHDR claiming the size, one small IDAT and (unless <paramref name="truncated"/>) an IEND chunk.</summary>
    public static byte[] Png(uint width, uint height, bool truncated = false)
    {
        var bytes = new List<byte> { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A };
        bytes.AddRange(Chunk("IHDR", [.. Be32(width), .. Be32(height), 8, 2, 0, 0, 0]));
        var idat = Chunk("IDAT", new byte[64]);
        bytes.AddRange(truncated ? idat[..40] : idat);
        if (!truncated)
            bytes.AddRange(Chunk("IEND", []));
        return [.. bytes];
    }

    /// <summary>A baseline JPEG skeleton: SOI, SOF0 with the size, SOS, some entropy-coded bytes and (unless truncated) EOI.</summary>
    public static byte[] Jpeg(ushort width, ushort height, bool truncated = false)
    {
        var bytes = new List<byte> { 0xFF, 0xD8 };
        bytes.AddRange([0xFF, 0xC0, 0, 11, 8, .. Be16(height), .. Be16(width), 1, 1, 0x11, 0]);
        bytes.AddRange([0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0]);
        bytes.AddRange(Enumerable.Range(0, 100).Select(i => (byte)(i * 7 % 250))); // no 0xFF
        if (!truncated)
            bytes.AddRange([0xFF, 0xD9]);
        return [.. bytes];
    }

    /// <summary>A BMP file header and BITMAPINFOHEADER claiming the size (negative height: top-down).</summary>
    public static byte[] Bmp(int width, int height)
    {
        var bytes = new byte[54];
        "BM"u8.CopyTo(bytes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(22), height);
        return bytes;
    }

    /// <summary>A WebP (VP8X) whose canvas claims the size.</summary>
    public static byte[] WebP(int width, int height)
    {
        var bytes = new byte[30];
        "RIFF"u8.CopyTo(bytes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), 22);
        "WEBPVP8X"u8.CopyTo(bytes.AsSpan(8));
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(16), 10);
        Le24(width - 1).CopyTo(bytes.AsSpan(24));
        Le24(height - 1).CopyTo(bytes.AsSpan(27));
        return bytes;
    }

    private static byte[] Chunk(string type, byte[] data) =>
        [.. Be32((uint)data.Length), .. System.Text.Encoding.ASCII.GetBytes(type), .. data, 0, 0, 0, 0]; // CRC not checked by the header reader

    private static byte[] Le16(ushort v) => [(byte)v, (byte)(v >> 8)];
    private static byte[] Le24(int v) => [(byte)v, (byte)(v >> 8), (byte)(v >> 16)];
    private static byte[] Be16(ushort v) => [(byte)(v >> 8), (byte)v];
    private static byte[] Be32(uint v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];
}
