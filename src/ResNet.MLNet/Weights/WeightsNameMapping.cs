namespace ResNet.MLNet.Weights;

/// <summary>
/// How checkpoint keys map to this library's keys. torchvision and timm ResNets share their keys
/// (<c>conv1</c>, <c>bn1</c>, <c>layer1.0.conv1</c>, ..., <c>layer1.0.se.fc1</c>); what differs is a prefix that the
/// training code put before them (DataParallel's <c>module.</c>, PyTorch Lightning's <c>model.</c>, a <c>backbone.</c>,
/// MoCo's <c>encoder_q.</c>) and the name of the classifier in some checkpoints.
/// </summary>
internal static class WeightsNameMapping
{
    /// <summary>The prefix <c>nn.DataParallel</c> and DistributedDataParallel add to every key.</summary>
    public const string DataParallelPrefix = "module.";

    /// <summary>Our classifier's key prefix.</summary>
    public const string Classifier = "fc.";

    /// <summary>The input convolution's weight, the one adapted to other channel counts.</summary>
    public const string InputConvWeight = "conv1.weight";

    /// <summary>Other names checkpoints give the classifier (timm heads, Cadene's pretrainedmodels), tried in order.</summary>
    private static readonly string[] ClassifierAliases = ["head.fc.", "classifier.", "last_linear.", "head."];

    /// <summary>The entries without the <c>module.</c> prefix when every key has it; unchanged otherwise.</summary>
    public static IEnumerable<KeyValuePair<string, T>> StripDataParallelPrefix<T>(IReadOnlyList<KeyValuePair<string, T>> entries)
    {
        return AllDataParallel(entries.Select(e => e.Key)) ? entries.Select(e => new KeyValuePair<string, T>(e.Key[DataParallelPrefix.Length..], e.Value)) : entries;
    }

    /// <summary>
    /// The network's tensors, named without the prefix their training code put before its keys. With
    /// <paramref name="prefix"/> null the prefix is found: none when <c>conv1.weight</c> is there as it is; else the one
    /// P for which both P<c>conv1.weight</c> and P<c>layer1.0.conv1.weight</c> are there (Lightning's <c>model.</c>,
    /// a <c>backbone.</c>); else <c>module.</c> when every key has it. Only the keys under the prefix are kept (the rest
    /// belong to other modules: a loss, a queue, a second network). An explicit prefix may be "" (keys as they are); a
    /// DataParallel <c>module.</c> at its start is optional, as readers of torch.save files remove it.
    /// </summary>
    /// <exception cref="InvalidDataException">Several prefixes hold a network (MoCo's two encoders, an EMA copy); or no key has the given prefix.</exception>
    public static IReadOnlyList<NamedTensor> Network(IReadOnlyList<NamedTensor> tensors, string? prefix = null)
    {
        prefix ??= FindPrefix(tensors);
        if (prefix.Length == 0)
            return tensors;
        var under = Under(tensors, prefix);
        if (under.Count == 0 && prefix.StartsWith(DataParallelPrefix, StringComparison.Ordinal))
            under = Under(tensors, prefix[DataParallelPrefix.Length..]);
        if (under.Count == 0)
            throw new InvalidDataException($"No key of the weights starts with '{PrintableName.Of(prefix)}' (the key prefix asked for); " +
                $"the first is '{PrintableName.Of(tensors.FirstOrDefault()?.Name ?? "")}'.");
        return under;
    }

    private static List<NamedTensor> Under(IReadOnlyList<NamedTensor> tensors, string prefix) =>
        tensors.Where(t => t.Name.StartsWith(prefix, StringComparison.Ordinal) && t.Name.Length > prefix.Length)
            .Select(t => t.WithName(t.Name[prefix.Length..])).ToList();

    private static string FindPrefix(IReadOnlyList<NamedTensor> tensors)
    {
        var names = tensors.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        if (names.Contains(InputConvWeight))
            return "";
        const string firstBlock = "layer1.0." + InputConvWeight;
        var found = names.Where(n => n.EndsWith("." + InputConvWeight, StringComparison.Ordinal))
            .Select(n => n[..^InputConvWeight.Length])
            .Where(p => names.Contains(p + firstBlock))
            .Order(StringComparer.Ordinal).ToList();
        if (found.Count > 1)
            throw new InvalidDataException(
                $"The weights hold {found.Count} networks, under the key prefixes {string.Join(", ", found.Select(p => $"'{PrintableName.Of(p)}'"))}. " +
                "Choose one: WeightsLoadOptions.KeyPrefix in code, or write it to a file of its own with " +
                "resnet-mlnet convert --in FILE --out NETWORK.safetensors --prefix PREFIX.");
        if (found.Count == 1)
            return found[0];
        return AllDataParallel(names) ? DataParallelPrefix : "";
    }

    /// <summary>Whether there are keys and every one has DataParallel's <c>module.</c> prefix.</summary>
    private static bool AllDataParallel(IEnumerable<string> keys) =>
        keys.Any() && keys.All(key => key.StartsWith(DataParallelPrefix, StringComparison.Ordinal));

    /// <summary>
    /// Our key for a checkpoint key: <c>head.fc.weight</c>, <c>classifier.weight</c>, <c>last_linear.weight</c> and
    /// <c>head.weight</c> (and their biases) become <c>fc.weight</c> / <c>fc.bias</c>; other keys stay.
    /// </summary>
    public static string ToModelKey(string key)
    {
        foreach (string alias in ClassifierAliases)
        {
            if (key.StartsWith(alias, StringComparison.Ordinal) && key[alias.Length..] is "weight" or "bias")
                return Classifier + key[alias.Length..];
        }
        return key;
    }

    /// <summary>
    /// File tensors by model key (the network's prefix removed, see <see cref="Network"/>; head aliases mapped); an exact
    /// key wins over an alias, and aliases that collide with it are unexpected.
    /// </summary>
    public static (Dictionary<string, NamedTensor> ByKey, List<string> Unexpected) MapKeys(IReadOnlyList<NamedTensor> tensors, string? prefix = null)
    {
        var stripped = Network(tensors, prefix);
        var byKey = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        var unexpected = new List<string>();
        foreach (var t in stripped.Where(t => ToModelKey(t.Name) == t.Name))
            byKey[t.Name] = t;
        foreach (var t in stripped.Where(t => ToModelKey(t.Name) != t.Name))
        {
            if (!byKey.TryAdd(ToModelKey(t.Name), t))
                unexpected.Add(t.Name);
        }
        MapSequentialHead(byKey);
        return (byKey, unexpected);
    }

    /// <summary>
    /// A classifier written as a Sequential around one Linear (<c>fc = nn.Sequential(nn.Dropout(p), nn.Linear(...))</c>,
    /// as PyTorch's fine-tuning tutorials write it) is <c>fc.K.weight</c> and <c>fc.K.bias</c>: they become the head.
    /// Anything else under <c>fc.</c> (a projection MLP of two Linears) is left as it is.
    /// </summary>
    private static void MapSequentialHead(Dictionary<string, NamedTensor> byKey)
    {
        if (byKey.ContainsKey(Classifier + "weight"))
            return;
        var head = byKey.Where(e => IsClassifier(e.Key)).ToList();
        var weights = head.Where(e => e.Key.EndsWith(".weight", StringComparison.Ordinal)).ToList();
        if (head.Count > 2 || weights is not [{ Value.Shape.Count: 2 } weight])
            return;
        string module = weight.Key[..^"weight".Length];
        if (!module[Classifier.Length..^1].All(char.IsAsciiDigit) || module.Length == Classifier.Length + 1
            || head.Any(e => e.Key != weight.Key && e.Key != module + "bias"))
            return;
        foreach (var (key, tensor) in head)
        {
            byKey.Remove(key);
            byKey[Classifier + key[module.Length..]] = tensor;
        }
    }

    /// <summary>Whether a (mapped) key belongs to the classifier head.</summary>
    public static bool IsClassifier(string key) => key.StartsWith(Classifier, StringComparison.Ordinal);

    /// <summary>Whether a key is a BatchNorm step counter, which old checkpoints (PyTorch before 0.4.1) lack.</summary>
    public static bool IsBatchCounter(string key) => key.EndsWith(".num_batches_tracked", StringComparison.Ordinal);

    /// <summary>Whether a key is a buffer rather than a trainable parameter (BatchNorm running statistics and counters).</summary>
    public static bool IsBuffer(string key) =>
        IsBatchCounter(key) || key.EndsWith(".running_mean", StringComparison.Ordinal) || key.EndsWith(".running_var", StringComparison.Ordinal);
}
