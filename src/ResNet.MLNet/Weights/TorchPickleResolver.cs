namespace ResNet.MLNet.Weights;

/// <summary>
/// The allowlist and rebuild functions of a weights-only <c>torch.load</c>: what the globals of a state_dict pickle
/// mean, without running any of them. Tensors come out as <see cref="TensorRef"/>s over <see cref="StorageRef"/>s whose
/// bytes the container (zip entries or the legacy stream) supplies afterwards.
/// </summary>
internal sealed class TorchPickleResolver : IPickleResolver
{
    private static readonly HashSet<string> Allowed = new(StringComparer.Ordinal)
    {
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_tensor_v3",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state",
        "torch.nn.parameter.Parameter",
        "torch.Size",
        "torch.device",
        "torch.UntypedStorage",
        "_codecs.encode",
    };

    private readonly Dictionary<string, StorageRef> storages = new(StringComparer.Ordinal);

    /// <summary>The storages the pickle referred to, by key, in order of first reference.</summary>
    public IReadOnlyDictionary<string, StorageRef> Storages => storages;

    /// <inheritdoc />
    public bool IsAllowed(string module, string name) =>
        Allowed.Contains($"{module}.{name}") || (module == "torch" && (DTypes.FromStorage(name) is not null || DTypes.FromTorch(name) is not null));

    /// <inheritdoc />
    public object? Call(PickleGlobal callable, object?[] args)
    {
        switch (callable.ToString())
        {
            case "collections.OrderedDict":
                var dict = new PickleDict();
                if (args.Length == 1 && args[0] is List<object?> pairs)
                {
                    foreach (var pair in pairs)
                    {
                        var kv = pair as object?[] is { Length: 2 } p ? p : throw Bad(callable, "a list of pairs");
                        dict.Set(kv[0], kv[1]);
                    }
                }
                else if (args.Length != 0)
                {
                    throw Bad(callable, "no arguments or a list of pairs");
                }
                return dict;
            case "torch._utils._rebuild_tensor":
                Arity(callable, args, 4, 4);
                return Rebuild(args, dtype: null);
            case "torch._utils._rebuild_tensor_v2":
                Arity(callable, args, 6, 7);
                return Rebuild(args, dtype: null);
            case "torch._utils._rebuild_tensor_v3":
                Arity(callable, args, 7, 8);
                return Rebuild(args, TorchDType(args[6]) ?? throw Bad(callable, "a supported torch dtype as argument 7"));
            case "torch._utils._rebuild_parameter":
            case "torch._utils._rebuild_parameter_with_state":
            case "torch.nn.parameter.Parameter":
                Arity(callable, args, 1, 4);
                return args[0] as TensorRef ?? throw Bad(callable, "a tensor as first argument");
            case "torch.Size":
                Arity(callable, args, 1, 1);
                return args[0] as object?[] ?? throw Bad(callable, "a tuple");
            case "torch.device":
                Arity(callable, args, 1, 2);
                return args[0] as string ?? throw Bad(callable, "a device name");
            case "_codecs.encode":
                Arity(callable, args, 2, 2);
                if (args[0] is not string text || args[1] is not string encoding)
                    throw Bad(callable, "(str, encoding)");
                return encoding.ToLowerInvariant() switch
                {
                    "latin1" or "latin-1" or "iso-8859-1" => System.Text.Encoding.Latin1.GetBytes(text),
                    "utf8" or "utf-8" => System.Text.Encoding.UTF8.GetBytes(text),
                    _ => throw Bad(callable, "latin1 or utf-8 encoding"),
                };
            default:
                throw new InvalidDataException($"'{callable}' cannot be called");
        }
    }

    /// <summary>
    /// A zip-format id <c>('storage', torch.XStorage, key, location, numel)</c> or a legacy one with a sixth
    /// view field (None, or <c>(view_key, offset, size)</c> in elements of the root storage).
    /// </summary>
    public object? PersistentLoad(object? id)
    {
        if (id is not object?[] { Length: 5 or 6 } t || t[0] is not "storage" || t[1] is not PickleGlobal type
            || t[2] is not string key || t[4] is not long numel || numel < 0)
            throw new InvalidDataException($"persistent id is not ('storage', type, key, location, numel): {PickleReader.Describe(id)}");
        DTypes.Info? info = type.Module == "torch" ? DTypes.FromStorage(type.Name) : null;
        if (info is null && type.ToString() != "torch.UntypedStorage")
            throw new InvalidDataException($"'{type}' is not a storage type");
        if (storages.TryGetValue(key, out var storage))
        {
            if (storage.Type != info || storage.Numel != numel)
                throw new InvalidDataException($"storage '{key}' is declared twice with different types or sizes");
        }
        else
        {
            storage = new StorageRef(key, info, numel);
            storages.Add(key, storage);
        }
        if (t.Length == 5 || t[5] is null)
            return storage;
        if (t[5] is not object?[] { Length: 3 } view || view[1] is not long viewOffset || view[2] is not long viewSize
            || viewOffset < 0 || viewSize < 0 || viewOffset > numel - viewSize)
            throw new InvalidDataException($"storage view of '{key}' is not (key, offset, size) within the storage");
        return new StorageView(storage, viewOffset);
    }

    private static TensorRef Rebuild(object?[] args, DTypes.Info? dtype)
    {
        var (storage, viewOffset) = args[0] switch
        {
            StorageRef s => (s, 0L),
            StorageView v => (v.Storage, v.Offset),
            _ => throw new InvalidDataException($"tensor storage is a {PickleReader.Describe(args[0])}"),
        };
        var type = dtype ?? storage.Type ?? throw new InvalidDataException($"untyped storage '{storage.Key}' needs a tensor dtype");
        if (args[1] is not long offset || offset < 0)
            throw new InvalidDataException($"tensor storage offset is a {PickleReader.Describe(args[1])}");
        return new TensorRef(storage, type, checked(offset + viewOffset), Dims(args[2], "size"), Dims(args[3], "stride"));
    }

    private static long[] Dims(object? value, string what)
    {
        if (value is not object?[] items || items.Length > 64)
            throw new InvalidDataException($"tensor {what} is a {PickleReader.Describe(value)}, not a tuple of at most 64 integers");
        var dims = new long[items.Length];
        for (int i = 0; i < items.Length; i++)
            dims[i] = items[i] is long d && d >= 0 ? d : throw new InvalidDataException($"tensor {what} holds {PickleReader.Describe(items[i])}, not a non-negative integer");
        return dims;
    }

    private static DTypes.Info? TorchDType(object? value) =>
        value is PickleGlobal { Module: "torch" } g ? DTypes.FromTorch(g.Name) : null;

    private static void Arity(PickleGlobal callable, object?[] args, int min, int max)
    {
        if (args.Length < min || args.Length > max)
            throw Bad(callable, min == max ? $"{min} arguments" : $"{min} to {max} arguments");
    }

    private static InvalidDataException Bad(PickleGlobal callable, string expected) => new($"{callable} called without {expected}");
}

/// <summary>A storage a pickle refers to: its key, element type (null for an untyped, byte-sized storage) and size.</summary>
internal sealed class StorageRef(string key, DTypes.Info? type, long numel)
{
    public string Key { get; } = key;

    public DTypes.Info? Type { get; } = type;

    /// <summary>Elements of <see cref="Type"/> (bytes when untyped).</summary>
    public long Numel { get; } = numel;

    /// <summary>Byte length the storage's data must have, or null when it overflows.</summary>
    public long? ByteLength => Numel <= long.MaxValue / (Type?.Size ?? 1) ? Numel * (Type?.Size ?? 1) : null;

    /// <summary>The storage's bytes, little-endian, once the container has supplied them.</summary>
    public ReadOnlyMemory<byte>? Data { get; set; }
}

/// <summary>A legacy-format view: a storage that starts <paramref name="Offset"/> elements into another.</summary>
internal sealed record StorageView(StorageRef Storage, long Offset);

/// <summary>A tensor a pickle rebuilds: a strided view of a storage, in elements.</summary>
internal sealed record TensorRef(StorageRef Storage, DTypes.Info DType, long Offset, long[] Size, long[] Stride);
