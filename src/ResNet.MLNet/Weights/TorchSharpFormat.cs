using System.Text;

namespace ResNet.MLNet.Weights;

/// <summary>
/// Reads and writes TorchSharp's <c>Module.save</c> / <c>Module.load</c> format: a LEB128 entry count, then per entry
/// the key (.NET length-prefixed UTF-8), the c10 scalar type code, the rank, the dimensions (all LEB128) and the raw
/// little-endian elements. It has no header and no metadata.
/// </summary>
internal static class TorchSharpFormat
{
    private const int MaxRank = 64;

    /// <summary>Reads a file written by TorchSharp's <c>Module.save</c> or by <see cref="Write(string, IReadOnlyList{NamedTensor})"/>.</summary>
    /// <exception cref="InvalidDataException">The bytes do not parse as that format exactly to the end of the file.</exception>
    public static WeightsFileContent Read(string path) => WeightsFile.OpenBytes(path, Read);

    /// <summary>Reads TorchSharp-format bytes; <paramref name="source"/> names them in error messages.</summary>
    /// <exception cref="InvalidDataException">See <see cref="Read(string)"/>.</exception>
    public static WeightsFileContent Read(ReadOnlyMemory<byte> file, string source)
    {
        var cursor = new ByteCursor(file, source);
        long count = cursor.ReadUleb128();
        if (count > cursor.Remaining / 4) // every entry takes at least 4 bytes (name length, name, type, rank)
            throw cursor.Error($"declares {count} tensors, more than the file can hold");
        var tensors = new List<NamedTensor>((int)count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < count; i++)
        {
            int at = cursor.Position;
            string name = cursor.ReadUtf8((ulong)cursor.ReadUleb128());
            if (!names.Add(name))
                throw cursor.Error($"tensor '{name}' appears twice", at);
            long code = cursor.ReadUleb128();
            var type = DTypes.FromCode(code) ?? throw cursor.Error($"tensor '{name}' has unsupported scalar type code {code}", at);
            long rank = cursor.ReadUleb128();
            if (rank > MaxRank)
                throw cursor.Error($"tensor '{name}' has {rank} dimensions", at);
            var shape = new long[rank];
            for (int d = 0; d < rank; d++)
                shape[d] = cursor.ReadUleb128();
            long? numel = NamedTensor.ElementCountOf(shape);
            if (numel is null || numel > cursor.Remaining / type.Size)
                throw cursor.Error($"tensor '{name}' of shape [{string.Join(", ", shape)}] needs more bytes than remain", at);
            tensors.Add(new NamedTensor(name, type.Type, shape, cursor.ReadBytes(numel.Value * type.Size)));
        }
        if (cursor.Remaining != 0)
            throw cursor.Error($"{cursor.Remaining} bytes follow the last tensor");
        return new WeightsFileContent(WeightsFormat.TorchSharp, tensors, new Dictionary<string, string>());
    }

    /// <summary>Writes a file that TorchSharp's <c>Module.load</c> reads into a module with these keys and shapes.</summary>
    /// <exception cref="ArgumentException">Two tensors share a name.</exception>
    public static void Write(string path, IReadOnlyList<NamedTensor> tensors) => WeightsFile.Create(path, stream => Write(stream, tensors));

    /// <summary>Writes the format to a stream.</summary>
    /// <exception cref="ArgumentException">Two tensors share a name.</exception>
    public static void Write(Stream stream, IReadOnlyList<NamedTensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(stream);
        WeightsFile.CheckUniqueNames(tensors);
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write7BitEncodedInt64(tensors.Count);
        foreach (var t in tensors)
        {
            writer.Write(t.Name);
            writer.Write7BitEncodedInt64((long)t.DType);
            writer.Write7BitEncodedInt64(t.Shape.Count);
            foreach (long d in t.Shape)
                writer.Write7BitEncodedInt64(d);
            writer.Write(t.Data.Span);
        }
    }
}
