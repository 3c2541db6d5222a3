using System.Buffers.Binary;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ResNet.MLNet.Weights;

/// <summary>
/// Reads and writes safetensors files: a little-endian u64 header length, a JSON header mapping names to
/// <c>{dtype, shape, data_offsets}</c> with an optional string map <c>__metadata__</c>, then the raw tensors.
/// The reader applies the reference implementation's checks; the writer pads the header with spaces to a multiple of 8
/// as the reference does, and keeps the tensors in the order given.
/// </summary>
internal static class SafeTensors
{
    /// <summary>The header key of the metadata map.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>The largest header the reference implementation accepts, in bytes.</summary>
    public const long MaxHeaderLength = 100_000_000;

    /// <summary>Reads a safetensors file; tensors come in the order of their data.</summary>
    /// <exception cref="InvalidDataException">The file breaks a rule of the format (the message names the rule and the tensor), or
    /// uses a dtype TorchSharp has no type for (F8, U16, U32, U64).</exception>
    public static WeightsFileContent Read(string path) => WeightsFile.OpenBytes(path, Read);

    /// <summary>Reads safetensors bytes; <paramref name="source"/> names them in error messages. Tensors share <paramref name="file"/>.</summary>
    /// <exception cref="InvalidDataException">See <see cref="Read(string)"/>.</exception>
    public static WeightsFileContent Read(ReadOnlyMemory<byte> file, string source)
    {
        if (file.Length < 8)
            throw new InvalidDataException($"{source}: a safetensors file has at least 8 bytes; this one has {file.Length}.");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(file.Span);
        if (n > MaxHeaderLength)
            throw new InvalidDataException($"{source}: safetensors header length {n} exceeds {MaxHeaderLength}.");
        if (8 + (long)n > file.Length)
            throw new InvalidDataException($"{source}: safetensors header length {n} runs past the end of the {file.Length}-byte file.");
        var entries = ParseHeader(file.Slice(8, (int)n), source, out var metadata);

        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long dataStart = 8 + (long)n, end = 0;
        foreach (var e in entries)
        {
            if (e.Begin != end || e.End < e.Begin)
                throw new InvalidDataException($"{source}: tensor '{e.Name}' has data offsets [{e.Begin}, {e.End}]; expected it to start at {end} (offsets must be contiguous from 0).");
            long? bytes = NamedTensor.ElementCountOf(e.Shape) is long count && count <= long.MaxValue / e.Size ? count * e.Size : null;
            if (bytes != e.End - e.Begin)
                throw new InvalidDataException($"{source}: tensor '{e.Name}' of dtype {e.DType} and shape [{string.Join(", ", e.Shape)}] needs {(bytes is null ? "an overflowing number of" : bytes.ToString())} bytes; its offsets span {e.End - e.Begin}.");
            end = e.End;
        }
        if (dataStart + end != file.Length)
            throw new InvalidDataException($"{source}: the tensors end at byte {dataStart + end} but the file has {file.Length} bytes.");

        var tensors = new List<NamedTensor>(entries.Count);
        foreach (var e in entries)
        {
            var type = DTypes.FromSafeTensors(e.DType)
                ?? throw new InvalidDataException($"{source}: tensor '{e.Name}' has dtype {e.DType}, which TorchSharp cannot hold; supported: {string.Join(", ", DTypes.All.Select(d => d.SafeTensors))}.");
            tensors.Add(new NamedTensor(e.Name, type.Type, e.Shape, file.Slice((int)(dataStart + e.Begin), (int)(e.End - e.Begin))));
        }
        return new WeightsFileContent(WeightsFormat.SafeTensors, tensors, metadata);
    }

    /// <summary>Writes a safetensors file.</summary>
    /// <exception cref="ArgumentException">Two tensors share a name, or a tensor is named <c>__metadata__</c>.</exception>
    public static void Write(string path, IReadOnlyList<NamedTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        WeightsFile.Create(path, stream => Write(stream, tensors, metadata));

    /// <summary>Writes safetensors to a stream.</summary>
    /// <exception cref="ArgumentException">See <see cref="Write(string, IReadOnlyList{NamedTensor}, IReadOnlyDictionary{string, string}?)"/>.</exception>
    public static void Write(Stream stream, IReadOnlyList<NamedTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        WeightsFile.CheckUniqueNames(tensors);
        if (tensors.Any(t => t.Name == MetadataKey))
            throw new ArgumentException($"A tensor cannot be named '{MetadataKey}'.", nameof(tensors));

        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata)
                    json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in tensors)
            {
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", DTypes.Of(t.DType).SafeTensors);
                json.WriteStartArray("shape");
                foreach (long d in t.Shape)
                    json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset += t.Data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        while (header.Length % 8 != 0)
            header.WriteByte((byte)' ');

        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        header.Position = 0;
        header.CopyTo(stream);
        foreach (var t in tensors)
            stream.Write(t.Data.Span);
    }

    private sealed record Entry(string Name, string DType, int Size, long[] Shape, long Begin, long End);

    private static List<Entry> ParseHeader(ReadOnlyMemory<byte> header, string source, out Dictionary<string, string> metadata)
    {
        metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        JsonDocument document;
        try
        {
            ByteCursor.StrictUtf8.GetCharCount(header.Span);
            document = JsonDocument.Parse(header);
        }
        catch (Exception e) when (e is JsonException or DecoderFallbackException)
        {
            throw new InvalidDataException($"{source}: the safetensors header is not valid UTF-8 JSON: {UserMessages.Of(e)}", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{source}: the safetensors header is not a JSON object.");
            var entries = new List<Entry>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw new InvalidDataException($"{source}: the safetensors header has the key '{property.Name}' twice.");
                if (property.Name == MetadataKey)
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                        throw new InvalidDataException($"{source}: {MetadataKey} is not a JSON object.");
                    foreach (var item in property.Value.EnumerateObject())
                    {
                        if (item.Value.ValueKind != JsonValueKind.String || !metadata.TryAdd(item.Name, item.Value.GetString()!))
                            throw new InvalidDataException($"{source}: {MetadataKey} entry '{item.Name}' is not a unique string.");
                    }
                    continue;
                }
                entries.Add(ParseEntry(property, source));
            }
            return entries;
        }
    }

    private static Entry ParseEntry(JsonProperty property, string source)
    {
        InvalidDataException Bad(string what) => new($"{source}: tensor '{property.Name}': {what}.");
        var info = property.Value;
        if (info.ValueKind != JsonValueKind.Object)
            throw Bad("its header entry is not a JSON object");
        if (!info.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String)
            throw Bad("no dtype string");
        string dtypeName = dtype.GetString()!;
        int size = DTypes.SafeTensorsSize(dtypeName) ?? throw Bad($"unknown dtype '{dtypeName}'");
        long[] shape = Integers(info, "shape", Bad);
        long[] offsets = Integers(info, "data_offsets", Bad);
        if (offsets.Length != 2)
            throw Bad("data_offsets does not hold two integers");
        return new Entry(property.Name, dtypeName, size, shape, offsets[0], offsets[1]);
    }

    private static long[] Integers(JsonElement info, string name, Func<string, InvalidDataException> bad)
    {
        if (!info.TryGetProperty(name, out var array) || array.ValueKind != JsonValueKind.Array)
            throw bad($"no {name} array");
        var values = new long[array.GetArrayLength()];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out values[i]) || values[i] < 0)
                throw bad($"{name} holds something other than non-negative integers");
            i++;
        }
        return values;
    }
}
