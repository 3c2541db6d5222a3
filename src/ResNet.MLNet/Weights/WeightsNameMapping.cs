namespace ResNet.MLNet.Weights;

/// <summary>
/// How checkpoint keys map to this library's keys. torchvision and timm ResNets share their keys
/// (<c>conv1</c>, <c>bn1</c>, <c>layer1.0.conv1</c>, ..., <c>layer1.0.se.fc1</c>); what differs is a DataParallel
/// <c>module.</c> prefix and the name of the classifier in some checkpoints.
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
        bool strip = entries.Count > 0 && entries.All(e => e.Key.StartsWith(DataParallelPrefix, StringComparison.Ordinal));
        return strip ? entries.Select(e => new KeyValuePair<string, T>(e.Key[DataParallelPrefix.Length..], e.Value)) : entries;
    }

    /// <summary>The tensors without the <c>module.</c> prefix when every name has it.</summary>
    public static IReadOnlyList<NamedTensor> StripDataParallelPrefix(IReadOnlyList<NamedTensor> tensors) =>
        StripDataParallelPrefix(tensors.Select(t => new KeyValuePair<string, NamedTensor>(t.Name, t)).ToList())
            .Select(e => e.Key == e.Value.Name ? e.Value : e.Value.WithName(e.Key)).ToList();

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

    /// <summary>File tensors by model key (DataParallel prefix stripped, head aliases mapped); an exact key wins over an alias, and aliases that collide with it are unexpected.</summary>
    public static (Dictionary<string, NamedTensor> ByKey, List<string> Unexpected) MapKeys(IReadOnlyList<NamedTensor> tensors)
    {
        var stripped = StripDataParallelPrefix(tensors);
        var byKey = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        var unexpected = new List<string>();
        foreach (var t in stripped.Where(t => ToModelKey(t.Name) == t.Name))
            byKey[t.Name] = t;
        foreach (var t in stripped.Where(t => ToModelKey(t.Name) != t.Name))
        {
            if (!byKey.TryAdd(ToModelKey(t.Name), t))
                unexpected.Add(t.Name);
        }
        return (byKey, unexpected);
    }

    /// <summary>Whether a (mapped) key belongs to the classifier head.</summary>
    public static bool IsClassifier(string key) => key.StartsWith(Classifier, StringComparison.Ordinal);

    /// <summary>Whether a key is a BatchNorm step counter, which old checkpoints (PyTorch before 0.4.1) lack.</summary>
    public static bool IsBatchCounter(string key) => key.EndsWith(".num_batches_tracked", StringComparison.Ordinal);

    /// <summary>Whether a key is a buffer rather than a trainable parameter (BatchNorm running statistics and counters).</summary>
    public static bool IsBuffer(string key) =>
        IsBatchCounter(key) || key.EndsWith(".running_mean", StringComparison.Ordinal) || key.EndsWith(".running_var", StringComparison.Ordinal);
}
