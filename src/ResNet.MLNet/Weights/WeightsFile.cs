namespace ResNet.MLNet.Weights;

/// <summary>
/// The format-agnostic front door for weight files. <see cref="Read(string)"/> takes <c>.onnx</c> files for ONNX (which
/// has no magic number) and recognizes the others by their first bytes (zip: <c>torch.save</c>; a pickle: legacy
/// <c>torch.save</c>; a length and <c>{</c>: safetensors; anything else is tried as TorchSharp's format, which has no
/// magic either); <see cref="Write"/> chooses the format by extension.
/// </summary>
public static class WeightsFile
{
    /// <summary>Reads any supported weight file. Reading never executes code from the file.</summary>
    /// <exception cref="InvalidDataException">The file is malformed or in no supported format; the message names the file and the problem.</exception>
    /// <exception cref="UnsafePickleException">A PyTorch pickle refers to a global outside the weights-only allowlist.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    public static WeightsFileContent Read(string path) => Open(path, Read);

    /// <summary>
    /// Reads any supported weight file from a seekable stream; <paramref name="source"/> names it in error messages, and
    /// when it ends in <c>.onnx</c> the stream is imported as ONNX (<see cref="OnnxWeightsImporter"/>, default options).
    /// </summary>
    /// <exception cref="InvalidDataException">See <see cref="Read(string)"/>.</exception>
    /// <exception cref="UnsafePickleException">See <see cref="Read(string)"/>.</exception>
    public static WeightsFileContent Read(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (IsOnnx(source))
            return OnnxWeightsImporter.Read(ReadAllBytes(stream, source), source);
        var format = Detect(stream);
        try
        {
            var content = format switch
            {
                WeightsFormat.PyTorch or WeightsFormat.PyTorchLegacy => TorchCheckpointReader.Read(stream, source),
                WeightsFormat.SafeTensors => SafeTensors.Read(ReadAllBytes(stream, source), source),
                _ => TorchSharpFormat.Read(ReadAllBytes(stream, source), source),
            };
            return content with { Source = source };
        }
        catch (InvalidDataException e) when (format == WeightsFormat.TorchSharp)
        {
            throw new InvalidDataException(
                $"{source}: not a recognized weight file: not a torch.save zip or legacy file, not safetensors, and not TorchSharp's format ({UserMessages.Of(e)})", e);
        }
    }

    /// <summary>
    /// <see cref="WeightsFormat.Onnx"/> for a <c>.onnx</c> path; otherwise the format a file's first bytes announce,
    /// <see cref="WeightsFormat.TorchSharp"/> when none does.
    /// </summary>
    public static WeightsFormat Detect(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        RegularFile.Check(path, "a weights file");
        if (IsOnnx(path))
            return WeightsFormat.Onnx;
        using var stream = File.OpenRead(path);
        return Detect(stream);
    }

    /// <summary>
    /// The format a seekable stream's first bytes announce; the stream is rewound to where it was. TorchSharp's format has
    /// no magic number, so the others are recognized strictly (a zip local header, a pickle holding torch's legacy magic
    /// number, a safetensors length followed by <c>{</c>) and everything else is taken for TorchSharp's.
    /// </summary>
    public static WeightsFormat Detect(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long start = stream.Position;
        Span<byte> head = stackalloc byte[32];
        int read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        stream.Position = start;
        head = head[..read];
        if (head.StartsWith("PK\x03\x04"u8) || head.StartsWith("PK\x05\x06"u8))
            return WeightsFormat.PyTorch;
        if (head.Length > 0 && head[0] == 0x80 && head.IndexOf(LegacyMagic) > 0) // pickle PROTO, then torch's pickled magic number
            return WeightsFormat.PyTorchLegacy;
        if (head.Length >= 9 && head[8] == (byte)'{' && System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(head) <= SafeTensors.MaxHeaderLength)
            return WeightsFormat.SafeTensors;
        return WeightsFormat.TorchSharp;
    }

    /// <summary>torch's legacy magic number 0x1950a86a20f9469cfc6c, as the little-endian bytes of a pickled LONG1.</summary>
    private static ReadOnlySpan<byte> LegacyMagic => [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19];

    /// <summary>
    /// The format a path's extension asks for: <c>.safetensors</c>; <c>.pth</c>, <c>.pt</c>, <c>.ckpt</c> (torch.save);
    /// <c>.dat</c>, <c>.bin</c> (TorchSharp).
    /// </summary>
    /// <exception cref="ArgumentException">The extension is none of these.</exception>
    public static WeightsFormat FormatForExtension(string path)
    {
        string extension = Path.GetExtension(path).ToLowerInvariant();
        return extension switch
        {
            ".safetensors" => WeightsFormat.SafeTensors,
            ".pth" or ".pt" or ".ckpt" => WeightsFormat.PyTorch,
            ".dat" or ".bin" => WeightsFormat.TorchSharp,
            _ => throw new ArgumentException(
                $"Cannot tell the weight format from the extension '{extension}' of '{path}': use .safetensors, .pth / .pt (torch.save), or .dat / .bin (TorchSharp).", nameof(path)),
        };
    }

    /// <summary>
    /// Writes tensors in the format <paramref name="format"/> names, or else the one the extension names (see
    /// <see cref="FormatForExtension"/>). Only safetensors keeps <paramref name="metadata"/>; the other formats have no place for it.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown extension, duplicate tensor names, or <see cref="WeightsFormat.PyTorchLegacy"/> (read only).</exception>
    public static void Write(string path, IReadOnlyList<NamedTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null, WeightsFormat? format = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        switch (format ?? FormatForExtension(path))
        {
            case WeightsFormat.SafeTensors:
                SafeTensors.Write(path, tensors, metadata);
                break;
            case WeightsFormat.PyTorch:
                PthWriter.Write(path, tensors);
                break;
            case WeightsFormat.TorchSharp:
                TorchSharpFormat.Write(path, tensors);
                break;
            default:
                throw new ArgumentException($"The {(format == WeightsFormat.Onnx ? "ONNX" : "legacy torch.save")} format is read only here; write WeightsFormat.PyTorch or SafeTensors instead.", nameof(format));
        }
    }

    /// <summary>Whether a path names an ONNX file: ONNX has no magic number, so the extension decides.</summary>
    internal static bool IsOnnx(string path) => Path.GetExtension(path).Equals(".onnx", StringComparison.OrdinalIgnoreCase);

    /// <summary>Opens <paramref name="path"/> and reads it with a stream reader that names the file in its errors.</summary>
    internal static WeightsFileContent Open(string path, Func<Stream, string, WeightsFileContent> read)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        RegularFile.Check(path, "a weights file"); // a FIFO would block the open, a device never end
        using var stream = File.OpenRead(path);
        return read(stream, path);
    }

    /// <summary>Reads <paramref name="path"/> whole and parses it with a byte reader.</summary>
    internal static WeightsFileContent OpenBytes(string path, Func<ReadOnlyMemory<byte>, string, WeightsFileContent> read) =>
        Open(path, (stream, source) => read(ReadAllBytes(stream, source), source));

    /// <summary>Creates (or overwrites) <paramref name="path"/> and writes it.</summary>
    internal static void Create(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = File.Create(path);
        write(stream);
    }

    /// <summary>The whole stream in one array; files of 2 GiB or more are refused (every format here keeps each tensor under that).</summary>
    internal static byte[] ReadAllBytes(Stream stream, string path)
    {
        long length = stream.Length - stream.Position;
        if (length > Array.MaxLength)
            throw new InvalidDataException($"{path}: files of {Array.MaxLength} bytes or more are not supported in this format; this one has {length}.");
        var bytes = new byte[length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <exception cref="ArgumentException">Two tensors share a name.</exception>
    internal static void CheckUniqueNames(IReadOnlyList<NamedTensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            if (!seen.Add(t.Name))
                throw new ArgumentException($"Two tensors are named '{t.Name}'.", nameof(tensors));
        }
    }
}
