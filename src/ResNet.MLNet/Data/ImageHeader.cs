using System.Buffers.Binary;

namespace ResNet.MLNet.Data;

/// <summary>The format and canvas size an image file declares in its header.</summary>
/// <param name="Format">"PNG", "JPEG", "GIF", "BMP" or "WebP".</param>
/// <param name="Width">Width in pixels (for a GIF, the widest extent of the logical screen and every frame).</param>
/// <param name="Height">Height in pixels (for a GIF, the tallest extent of the logical screen and every frame).</param>
internal sealed record ImageDimensions(string Format, long Width, long Height)
{
    /// <summary>Width x height.</summary>
    public long Pixels => Width * Height;
}

/// <summary>An image file that fails the header check.</summary>
/// <param name="Index">Its position in the list checked.</param>
/// <param name="Path">The file.</param>
/// <param name="Message">Why, naming the file.</param>
public sealed record ImageProblem(int Index, string Path, string Message);

/// <summary>
/// Reads an image file's dimensions from its header without decoding it (PNG IHDR, JPEG SOFn, GIF logical screen and
/// frame descriptors, BMP info header, WebP VP8/VP8L/VP8X), and checks them against <see cref="ImageLimits"/> before
/// ML.NET decodes the file. Truncated PNG (no IEND chunk) and JPEG (no EOI marker after the scan) files are refused as
/// Pillow refuses them. Only regular files are read.
/// </summary>
internal static class ImageHeader
{
    private const int TailLength = 4096;

    /// <summary>The format and size <paramref name="path"/> declares.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">Not a regular file, not PNG/JPEG/GIF/BMP/WebP, a malformed or truncated header; the message names the file.</exception>
    public static ImageDimensions Read(string path)
    {
        long length = RegularFile.Check(path, "an image");
        string full = Path.GetFullPath(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 16384);
        var reader = new HeaderReader(stream, length, full);
        Span<byte> magic = stackalloc byte[12];
        int read = stream.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
        magic = magic[..read];
        stream.Position = 0;
        ImageDimensions size;
        if (magic.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]))
            size = Png(reader);
        else if (magic.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8]))
            size = Jpeg(reader);
        else if (magic.StartsWith("GIF87a"u8) || magic.StartsWith("GIF89a"u8))
            size = Gif(reader);
        else if (magic.StartsWith("BM"u8))
            size = Bmp(reader);
        else if (magic.Length == 12 && magic.StartsWith("RIFF"u8) && magic[8..].SequenceEqual("WEBP"u8))
            size = WebP(reader);
        else
            throw new InvalidDataException($"'{full}' is not an image: expected PNG, JPEG, GIF, BMP or WebP; its first bytes are {Convert.ToHexString(magic)}.");
        if (size.Width < 1 || size.Height < 1)
            throw new InvalidDataException($"'{full}' is not an image: its {size.Format} header declares {size.Width} x {size.Height} pixels.");
        return size;
    }

    /// <summary>Reads the header and checks the size against <paramref name="limits"/> (default <see cref="ImageLimits.Default"/>).</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">See <see cref="Read"/>; or the image is larger than the limit.</exception>
    public static ImageDimensions Check(string path, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        var size = Read(path);
        if (size.Pixels > limits.MaxPixels)
            throw new InvalidDataException(
                $"Image '{Path.GetFullPath(path)}': its {size.Format} header declares {size.Width} x {size.Height} = {size.Pixels:N0} pixels, more than the limit of " +
                $"{limits.MaxPixels:N0} (a decompression bomb?). Raise ImageLimits.MaxPixels (--max-image-pixels) if the image is genuine.");
        return size;
    }

    /// <summary>
    /// Checks every file (in parallel) and reports every failure at once: one line per file, the first 20 listed.
    /// </summary>
    /// <exception cref="InvalidDataException">At least one file failed <see cref="Check"/>; the message names each.</exception>
    public static void CheckAll(IEnumerable<string> paths, ImageLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        CheckAll(paths.ToList(), limits, where: null);
    }

    /// <summary>
    /// The files that fail <see cref="Check"/> (checked in parallel), in the order given, each with the reason; empty
    /// when all pass.
    /// </summary>
    public static IReadOnlyList<ImageProblem> FindProblems(IReadOnlyList<string> paths, ImageLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var failures = new System.Collections.Concurrent.ConcurrentBag<(int Index, string Message)>();
        Parallel.For(0, paths.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) }, i =>
        {
            try
            {
                Check(paths[i], limits);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                failures.Add((i, e.Message));
            }
        });
        return failures.OrderBy(f => f.Index).Select(f => new ImageProblem(f.Index, paths[f.Index], f.Message)).ToList();
    }

    /// <summary><see cref="CheckAll(IEnumerable{string}, ImageLimits?)"/>, each failure prefixed with <paramref name="where"/> of its index (a row).</summary>
    internal static void CheckAll(IReadOnlyList<string> list, ImageLimits? limits, Func<int, string>? where)
    {
        var problems = FindProblems(list, limits);
        if (problems.Count > 0)
            throw Error(problems, list.Count, where);
    }

    /// <summary>One error for <paramref name="problems"/> found among <paramref name="checkedCount"/> files: the message itself for one, else one line per file (the first 20).</summary>
    internal static InvalidDataException Error(IReadOnlyList<ImageProblem> problems, int checkedCount, Func<int, string>? where = null)
    {
        var lines = problems.Select(p => where is null ? p.Message : $"{where(p.Index)}: {p.Message}").ToList();
        if (lines.Count == 1)
            return new InvalidDataException(lines[0]);
        const int shown = 20;
        string more = lines.Count > shown ? $"{Environment.NewLine}  ... and {lines.Count - shown} more" : "";
        return new InvalidDataException(
            $"{lines.Count} of {checkedCount} images cannot be read:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", lines.Take(shown))}{more}");
    }

    private static ImageDimensions Png(HeaderReader r)
    {
        // Signature (8), IHDR: length 13, "IHDR", width, height (big-endian).
        var ihdr = r.At(8, 16, "IHDR chunk");
        if (BinaryPrimitives.ReadUInt32BigEndian(ihdr) != 13 || !ihdr[4..8].SequenceEqual("IHDR"u8))
            throw r.Error("its first chunk is not a 13-byte IHDR");
        var size = new ImageDimensions("PNG", BinaryPrimitives.ReadUInt32BigEndian(ihdr[8..]), BinaryPrimitives.ReadUInt32BigEndian(ihdr[12..]));
        // Walk the chunk headers (length, type) to IEND: a file that ends inside a chunk is truncated.
        for (long at = 8; ;)
        {
            if (at + 8 > r.Length)
                throw r.Error($"the file is truncated (it ends at offset {r.Length} without an IEND chunk)");
            var chunk = r.At(at, 8, "chunk header");
            if (chunk[4..].SequenceEqual("IEND"u8))
                return size;
            at += 12L + BinaryPrimitives.ReadUInt32BigEndian(chunk);
        }
    }

    private static ImageDimensions Jpeg(HeaderReader r)
    {
        long at = 2;
        ImageDimensions? size = null;
        while (true)
        {
            var marker = r.At(at, 2, "marker");
            if (marker[0] != 0xFF)
                throw r.Error($"expected a marker at offset {at}, found 0x{marker[0]:X2}");
            byte code = marker[1];
            if (code == 0xFF) // fill byte
            {
                at++;
                continue;
            }
            at += 2;
            if (code is 0x01 or (>= 0xD0 and <= 0xD7))
                continue; // markers without a length
            if (code == 0xD9)
                throw r.Error("the image ends before its first scan");
            int segment = BinaryPrimitives.ReadUInt16BigEndian(r.At(at, 2, "segment length"));
            if (segment < 2)
                throw r.Error($"segment 0xFF{code:X2} at offset {at - 2} declares {segment} bytes");
            if (code is >= 0xC0 and <= 0xCF and not (0xC4 or 0xC8 or 0xCC)) // SOFn: precision, height, width
            {
                var sof = r.At(at + 2, 5, "frame header");
                size = new ImageDimensions("JPEG", BinaryPrimitives.ReadUInt16BigEndian(sof[3..]), BinaryPrimitives.ReadUInt16BigEndian(sof[1..]));
            }
            else if (code == 0xDA) // start of scan: the entropy-coded data follows
            {
                if (size is null)
                    throw r.Error("a scan starts before any frame header (SOFn)");
                // Entropy-coded data never holds 0xFFD9 (a data 0xFF is followed by 0x00): the first one after the scan header
                // ends the image. Usually it is in the last few KiB; data appended after it (motion photos) is allowed.
                ReadOnlySpan<byte> eoi = [0xFF, 0xD9];
                if (r.Tail(Math.Max(at + segment, r.Length - TailLength)).IndexOf(eoi) < 0 && !r.Contains(at + segment, eoi))
                    throw r.Error("the file is truncated (no end-of-image marker after the scan)");
                return size;
            }
            at += segment;
        }
    }

    private static ImageDimensions Gif(HeaderReader r)
    {
        var screen = r.At(6, 7, "logical screen descriptor");
        long width = BinaryPrimitives.ReadUInt16LittleEndian(screen), height = BinaryPrimitives.ReadUInt16LittleEndian(screen[2..]);
        long at = 13 + ColorTable(screen[4]);
        while (at < r.Length)
        {
            byte block = r.At(at, 1, "block")[0];
            at++;
            if (block == 0x3B) // trailer
                break;
            if (block == 0x21) // extension: a label, then data sub-blocks
            {
                at = SkipSubBlocks(r, at + 1);
            }
            else if (block == 0x2C) // image descriptor: left, top, width, height, flags
            {
                var frame = r.At(at, 9, "image descriptor");
                width = Math.Max(width, (long)BinaryPrimitives.ReadUInt16LittleEndian(frame) + BinaryPrimitives.ReadUInt16LittleEndian(frame[4..]));
                height = Math.Max(height, (long)BinaryPrimitives.ReadUInt16LittleEndian(frame[2..]) + BinaryPrimitives.ReadUInt16LittleEndian(frame[6..]));
                at += 9 + ColorTable(frame[8]) + 1; // + LZW minimum code size
                at = SkipSubBlocks(r, at);
            }
            else
            {
                throw r.Error($"unknown block 0x{block:X2} at offset {at - 1}");
            }
        }
        return new ImageDimensions("GIF", width, height);

        static long ColorTable(byte flags) => (flags & 0x80) != 0 ? 3L << ((flags & 7) + 1) : 0;
    }

    private static long SkipSubBlocks(HeaderReader r, long at)
    {
        while (at < r.Length)
        {
            byte count = r.At(at, 1, "sub-block")[0];
            at += 1 + count;
            if (count == 0)
                break;
        }
        return at;
    }

    private static ImageDimensions Bmp(HeaderReader r)
    {
        var header = r.At(14, 4, "DIB header");
        uint dib = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (dib == 12) // BITMAPCOREHEADER: 16-bit width and height
        {
            var core = r.At(18, 4, "core header");
            return new ImageDimensions("BMP", BinaryPrimitives.ReadUInt16LittleEndian(core), BinaryPrimitives.ReadUInt16LittleEndian(core[2..]));
        }
        if (dib < 40)
            throw r.Error($"its DIB header declares {dib} bytes");
        var info = r.At(18, 8, "info header");
        long height = BinaryPrimitives.ReadInt32LittleEndian(info[4..]);
        return new ImageDimensions("BMP", BinaryPrimitives.ReadInt32LittleEndian(info), Math.Abs(height)); // negative height: top-down rows
    }

    private static ImageDimensions WebP(HeaderReader r)
    {
        var chunk = r.At(12, 4, "first chunk");
        if (chunk.SequenceEqual("VP8 "u8))
        {
            var frame = r.At(23, 7, "VP8 frame header");
            if (!frame[..3].SequenceEqual((ReadOnlySpan<byte>)[0x9D, 0x01, 0x2A]))
                throw r.Error("its VP8 frame has no start code");
            return new ImageDimensions("WebP", BinaryPrimitives.ReadUInt16LittleEndian(frame[3..]) & 0x3FFF, BinaryPrimitives.ReadUInt16LittleEndian(frame[5..]) & 0x3FFF);
        }
        if (chunk.SequenceEqual("VP8L"u8))
        {
            var bits = r.At(20, 5, "VP8L header");
            if (bits[0] != 0x2F)
                throw r.Error("its VP8L chunk has no signature");
            uint packed = BinaryPrimitives.ReadUInt32LittleEndian(bits[1..]);
            return new ImageDimensions("WebP", (packed & 0x3FFF) + 1, ((packed >> 14) & 0x3FFF) + 1);
        }
        if (chunk.SequenceEqual("VP8X"u8))
        {
            var canvas = r.At(24, 6, "VP8X canvas size");
            return new ImageDimensions("WebP", (canvas[0] | canvas[1] << 8 | canvas[2] << 16) + 1L, (canvas[3] | canvas[4] << 8 | canvas[5] << 16) + 1L);
        }
        throw r.Error($"its first chunk is '{System.Text.Encoding.ASCII.GetString(chunk)}', not VP8, VP8L or VP8X");
    }

    /// <summary>Reads small pieces of the file at offsets, failing with the file and offset when it ends too soon.</summary>
    private sealed class HeaderReader(FileStream stream, long length, string path)
    {
        private readonly byte[] buffer = new byte[TailLength];

        public long Length => length;

        public ReadOnlySpan<byte> At(long offset, int count, string what)
        {
            if (offset < 0 || offset + count > length)
                throw Error($"the file ends before its {what} (offset {offset}, {length} bytes)");
            if (stream.Position != offset)
                stream.Position = offset;
            stream.ReadExactly(buffer, 0, count);
            return buffer.AsSpan(0, count);
        }

        /// <summary>The bytes from <paramref name="from"/> (at least 0, at most the last 4 KiB) to the end.</summary>
        public ReadOnlySpan<byte> Tail(long from)
        {
            from = Math.Clamp(from, Math.Max(0, length - TailLength), length);
            return At(from, (int)(length - from), "end");
        }

        /// <summary>Whether the bytes from <paramref name="from"/> to the end hold <paramref name="pattern"/> (two bytes), read in blocks.</summary>
        public bool Contains(long from, ReadOnlySpan<byte> pattern)
        {
            for (long at = from; at < length; at += buffer.Length - 1) // blocks overlap by one byte
            {
                var block = At(at, (int)Math.Min(buffer.Length, length - at), "data");
                if (block.IndexOf(pattern) >= 0)
                    return true;
                if (at + block.Length >= length)
                    break;
            }
            return false;
        }

        public InvalidDataException Error(string why) => new($"'{path}' is not an image: {why}.");
    }
}
