using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Numerics;

namespace ResNet.MLNet.Weights;

/// <summary>
/// Reads the tensors of a <c>torch.save</c> file without Python and without running the pickle: the zip format
/// (PyTorch 1.6 and later) and the legacy format, both through a weights-only allowlist (see
/// <see cref="UnsafePickleException"/>). Tensors honour storage offsets and strides (views and shared storages
/// become contiguous tensors). Checkpoints that wrap the state_dict (<c>{'state_dict': ...}</c>, <c>{'model': ...}</c>,
/// <c>{'model_state': ...}</c>, <c>{'model_state_dict': ...}</c>) are unwrapped, and a DataParallel <c>module.</c>
/// prefix on every key is removed.
/// </summary>
internal static class TorchCheckpointReader
{
    /// <summary>Keys under which checkpoints commonly keep the state_dict, in the order they are tried.</summary>
    public static IReadOnlyList<string> WrapperKeys { get; } = ["state_dict", "model_state_dict", "model_state", "model"];

    private static readonly BigInteger LegacyMagic = BigInteger.Parse("1950a86a20f9469cfc6c", NumberStyles.HexNumber);

    /// <summary>Reads a zip-format or legacy <c>torch.save</c> file.</summary>
    /// <exception cref="InvalidDataException">The file is malformed or holds no state_dict.</exception>
    /// <exception cref="UnsafePickleException">The pickle refers to a global outside the allowlist.</exception>
    public static WeightsFileContent Read(string path) => WeightsFile.Open(path, Read);

    /// <summary>Reads a <c>torch.save</c> file from a seekable stream; <paramref name="source"/> names it in error messages.</summary>
    /// <exception cref="InvalidDataException">The file is malformed or holds no state_dict.</exception>
    /// <exception cref="UnsafePickleException">The pickle refers to a global outside the allowlist.</exception>
    public static WeightsFileContent Read(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return WeightsFile.Detect(stream) switch
        {
            WeightsFormat.PyTorch => ReadZip(stream, source),
            WeightsFormat.PyTorchLegacy => ReadLegacy(WeightsFile.ReadAllBytes(stream, source), source),
            _ => throw new InvalidDataException($"{source}: not a torch.save file (neither a zip archive nor a pickle)."),
        };
    }

    private static WeightsFileContent ReadZip(Stream stream, string path)
    {
        long budget = stream.Length - stream.Position; // no entry, nor all of them together, may hold more than the file does
        ZipArchive archive;
        try
        {
            archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (Exception e) when (IsZipFailure(e))
        {
            throw new InvalidDataException($"{path}: not a readable zip archive: {UserMessages.Of(e)}", e);
        }
        using (archive)
        {
            try
            {
                return ReadEntries(archive, stream.Length, budget, path);
            }
            catch (Exception e) when (IsZipFailure(e) && !e.Message.StartsWith(path, StringComparison.Ordinal))
            {
                // The central directory is read lazily: its failures surface here, without the file's name.
                throw new InvalidDataException($"{path}: not a readable zip archive: {UserMessages.Of(e)}", e);
            }
        }
    }

    private static WeightsFileContent ReadEntries(ZipArchive archive, long fileLength, long budget, string path)
    {
        string prefix = TopFolder(archive, path);
        byte[] ReadEntry(string name, bool optional = false)
        {
            var entry = archive.GetEntry(prefix + name);
            if (entry is null)
                return optional ? [] : throw new InvalidDataException($"{path}: the archive has no entry '{prefix + name}'.");
            if (entry.Length > budget)
                throw new InvalidDataException($"{path}: entry '{entry.FullName}' declares {entry.Length} bytes, more than the file can hold.");
            budget -= entry.Length;
            try
            {
                var bytes = new byte[entry.Length];
                using var data = entry.Open();
                data.ReadExactly(bytes);
                return bytes;
            }
            catch (Exception e) when (IsZipFailure(e))
            {
                throw new InvalidDataException($"{path}: cannot read entry '{entry.FullName}': {UserMessages.Of(e)}", e);
            }
        }

        var resolver = new TorchPickleResolver();
        string pickle = $"{path}:{prefix}data.pkl";
        object? root = new PickleReader(new ByteCursor(ReadEntry("data.pkl"), pickle), resolver, PickleBudget.ForFile(fileLength)).Load();
        bool bigEndian = ByteOrder(ReadEntry("byteorder", optional: true), path);
        var (state, metadata) = FindStateDict(root, pickle);
        foreach (var storage in UsedStorages(state))
        {
            byte[] bytes = ReadEntry($"data/{storage.Key}");
            if (bytes.Length != storage.ByteLength)
                throw new InvalidDataException($"{path}: storage '{storage.Key}' holds {bytes.Length} bytes; its {storage.Numel} elements need {storage.ByteLength}.");
            storage.Data = bigEndian ? SwapBytes(bytes, storage.Type?.Size ?? 1) : bytes;
        }
        return new WeightsFileContent(WeightsFormat.PyTorch, Materialize(state, fileLength, pickle), metadata);
    }

    /// <summary>
    /// The legacy format: pickles of the magic number, the protocol version (1001), the system info and the object,
    /// a pickled list of storage keys, then per key an int64 element count and the raw bytes.
    /// </summary>
    private static WeightsFileContent ReadLegacy(byte[] file, string path)
    {
        var cursor = new ByteCursor(file, path);
        var header = new TorchPickleResolver();
        var budget = PickleBudget.ForFile(file.Length); // one budget for the file's five pickles
        if (new PickleReader(cursor, header, budget).Load() is not BigInteger magic || magic != LegacyMagic)
            throw new InvalidDataException($"{path}: a pickle, but not a torch.save file (no legacy magic number); raw pickles are not weight files.");
        if (new PickleReader(cursor, header, budget).Load() is not 1001L)
            throw new InvalidDataException($"{path}: unsupported legacy torch.save protocol version; expected 1001.");
        if (new PickleReader(cursor, header, budget).Load() is not PickleDict sysInfo)
            throw new InvalidDataException($"{path}: legacy torch.save system info is not a dict.");
        bool bigEndian = sysInfo.TryGet("little_endian", out var little) && little is false;

        var resolver = new TorchPickleResolver();
        object? root = new PickleReader(cursor, resolver, budget).Load();
        var keys = new PickleReader(cursor, header, budget).Load() as List<object?>
            ?? throw cursor.Error("legacy storage key list is not a list");
        foreach (object? item in keys)
        {
            if (item is not string key || !resolver.Storages.TryGetValue(key, out var storage))
                throw cursor.Error($"legacy storage key {PickleReader.Describe(item)} names no storage of the pickle");
            long count = cursor.ReadInt64();
            if (bigEndian)
                count = BinaryPrimitives.ReverseEndianness(count);
            if (count != storage.Numel)
                throw cursor.Error($"storage '{key}' holds {count} elements; the pickle declared {storage.Numel}");
            var bytes = cursor.ReadBytes(storage.ByteLength ?? -1);
            storage.Data = bigEndian ? SwapBytes(bytes.ToArray(), storage.Type?.Size ?? 1) : bytes;
        }
        var (state, metadata) = FindStateDict(root, path);
        return new WeightsFileContent(WeightsFormat.PyTorchLegacy, Materialize(state, file.Length, path), metadata);
    }

    /// <summary>
    /// The state_dict in a loaded pickle: a dict whose values are all tensors, or one under a <see cref="WrapperKeys"/>
    /// key, whose plain sibling values become metadata. Walks at most one level, never recursively.
    /// </summary>
    private static (IReadOnlyList<KeyValuePair<string, TensorRef>> State, IReadOnlyDictionary<string, string> Metadata) FindStateDict(object? root, string source)
    {
        if (root is not PickleDict dict)
            throw new InvalidDataException($"{source}: holds a {PickleReader.Describe(root)}, not a state_dict (a dict of tensors).");
        if (AsStateDict(dict) is { } state)
            return (state, new Dictionary<string, string>());
        foreach (string key in WrapperKeys)
        {
            if (dict.TryGet(key, out var inner) && inner is PickleDict innerDict && AsStateDict(innerDict) is { } wrapped)
            {
                var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var (k, v) in dict.Entries)
                {
                    if (k is string name && Plain(v) is { } text)
                        metadata[name] = text;
                }
                return (wrapped, metadata);
            }
        }
        var keys = dict.Entries.Take(20).Select(e => e.Key is string s ? $"'{s}'" : PickleReader.Describe(e.Key));
        throw new InvalidDataException(
            $"{source}: no state_dict found. The top-level dict has keys [{string.Join(", ", keys)}{(dict.Count > 20 ? ", ..." : "")}]; " +
            $"expected a dict of tensors or one under {string.Join(", ", WrapperKeys.Select(k => $"'{k}'"))}.");
    }

    private static List<KeyValuePair<string, TensorRef>>? AsStateDict(PickleDict dict)
    {
        var state = new List<KeyValuePair<string, TensorRef>>(dict.Count);
        foreach (var (key, value) in dict.Entries)
        {
            if (key is not string name || value is not TensorRef tensor)
                return null;
            state.Add(new(name, tensor));
        }
        return state;
    }

    private static string? Plain(object? value) => value switch
    {
        string s => s,
        long or BigInteger or bool => value.ToString(),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        _ => null,
    };

    private static IEnumerable<StorageRef> UsedStorages(IReadOnlyList<KeyValuePair<string, TensorRef>> state) =>
        state.Select(e => e.Value.Storage).Distinct();

    /// <summary>
    /// Contiguous named tensors from strided views: a contiguous view shares its storage's bytes, any other is copied.
    /// Copies together may not exceed <paramref name="copyBudget"/> bytes (the file's size), and no view may address
    /// more elements than its storage holds, so no file makes the reader allocate more than the file justifies.
    /// </summary>
    private static List<NamedTensor> Materialize(IReadOnlyList<KeyValuePair<string, TensorRef>> state, long copyBudget, string source)
    {
        var tensors = new List<NamedTensor>(state.Count);
        foreach (var (name, t) in WeightsNameMapping.StripDataParallelPrefix(state))
        {
            var storage = t.Storage.Data ?? throw new InvalidDataException($"{source}: tensor '{name}': storage '{t.Storage.Key}' has no data.");
            StridedView view;
            try
            {
                view = StridedView.Create(t.Size, t.Stride, t.Offset, t.DType.Size, storage.Length);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{source}: tensor '{name}': {UserMessages.Of(e)}");
            }
            ReadOnlyMemory<byte> data;
            if (view.IsContiguous)
            {
                data = storage.Slice((int)view.ByteOffset, (int)view.ByteLength);
            }
            else
            {
                copyBudget -= view.ByteLength;
                if (copyBudget < 0)
                    throw new InvalidDataException($"{source}: tensor '{name}': strided views need more copies than the file's size justifies.");
                data = view.Gather(storage.Span);
            }
            tensors.Add(new NamedTensor(name, t.DType.Type, t.Size, data));
        }
        return tensors;
    }

    private static string TopFolder(ZipArchive archive, string path)
    {
        if (archive.Entries.Count == 0)
            throw new InvalidDataException($"{path}: the zip archive is empty.");
        string first = archive.Entries[0].FullName;
        int slash = first.IndexOf('/');
        if (slash <= 0)
            throw new InvalidDataException($"{path}: the first zip entry '{first}' is not inside a folder, as torch.save writes it.");
        return first[..(slash + 1)];
    }

    private static bool ByteOrder(byte[] entry, string path)
    {
        string order = System.Text.Encoding.ASCII.GetString(entry).Trim();
        return order switch
        {
            "" or "little" => false,
            "big" => true,
            _ => throw new InvalidDataException($"{path}: byteorder entry is neither 'little' nor 'big'."),
        };
    }

    private static byte[] SwapBytes(byte[] data, int size)
    {
        for (int i = 0; i + size <= data.Length; i += size)
            data.AsSpan(i, size).Reverse();
        return data;
    }

    /// <summary>
    /// Failures of the zip layer on a malformed archive, which <see cref="ZipArchive"/> reports with several types
    /// (an <see cref="InvalidDataException"/> among them, without the file's name: it is wrapped like the others).
    /// </summary>
    private static bool IsZipFailure(Exception e) =>
        e is (InvalidDataException or IOException or NotSupportedException or ArgumentException or InvalidOperationException)
        and not FileNotFoundException and not DirectoryNotFoundException;
}
