using ResNet.MLNet.Models;

namespace ResNet.MLNet.Weights;

/// <summary>How well a weight file's keys and shapes fit one architecture of the zoo.</summary>
/// <param name="Architecture">The zoo architecture compared with.</param>
/// <param name="Name">Its registry name.</param>
/// <param name="NumClasses">Classes of the file's classifier (0 when it has none), used to build the comparison model.</param>
/// <param name="InChannels">Input channels of the file's first convolution.</param>
/// <param name="Matching">Keys present in both with equal shapes.</param>
/// <param name="ModelKeys">Keys of the architecture.</param>
/// <param name="FileKeys">Keys of the file (after prefix and head renaming; without a classifier, those under <c>fc.</c> are not counted).</param>
public sealed record ArchitectureMatch(ResNetArchitecture Architecture, string Name, int NumClasses, int InChannels, int Matching, int ModelKeys, int FileKeys)
{
    /// <summary>Every key of both sides matches (BatchNorm counters the file lacks excepted).</summary>
    public bool IsExact => Matching == ModelKeys && Matching == FileKeys;

    /// <summary>Matching keys over the larger key count, 0 to 1.</summary>
    public double Score => Math.Max(ModelKeys, FileKeys) == 0 ? 0 : (double)Matching / Math.Max(ModelKeys, FileKeys);

    /// <inheritdoc />
    public override string ToString() =>
        IsExact
            ? $"{Name} ({(NumClasses == 0 ? "no classifier" : $"{NumClasses} classes")}, {InChannels} input channels)"
            : $"closest: {Name} ({Matching} of {ModelKeys} keys match; the file has {FileKeys})";
}

/// <summary>Tells which zoo architecture a weight file was saved from, by its keys and shapes.</summary>
public static partial class ArchitectureDetector
{
    private static readonly Dictionary<ResNetArchitecture, Lazy<Dictionary<string, long[]>>> Signatures =
        Enum.GetValues<ResNetArchitecture>().ToDictionary(a => a, a => new Lazy<Dictionary<string, long[]>>(() => BuildSignature(a)));

    /// <summary>
    /// Compares the tensors with the architectures of <see cref="ResNetArchitecture"/> whose blocks per stage equal the
    /// file's (<c>layerN.M</c> keys), or when none does, those with as many stages; each is taken with the file's class
    /// count (from <c>fc.weight</c>) and input channels (from <c>conv1.weight</c>). Returns the matches best first.
    /// An architecture is built once per process (up to a second or two for the largest) to learn its keys and shapes.
    /// </summary>
    public static IReadOnlyList<ArchitectureMatch> Rank(IReadOnlyList<NamedTensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var file = WeightsNameMapping.MapKeys(tensors).ByKey.ToDictionary(e => e.Key, e => SqueezeHead(e.Value), StringComparer.Ordinal);
        int numClasses = file.TryGetValue(WeightsNameMapping.Classifier + "weight", out var fc) && fc.Count == 2 ? (int)fc[0] : 0;
        int inChannels = file.TryGetValue(WeightsNameMapping.InputConvWeight, out var conv) && conv.Count == 4 ? (int)conv[1] : 3;

        // Without a linear classifier, what the file has under fc. (a self-supervised run's projection MLP) is no part of the backbone.
        int fileKeys = numClasses == 0 ? file.Keys.Count(k => !WeightsNameMapping.IsClassifier(k)) : file.Count;
        var matches = new List<ArchitectureMatch>();
        foreach (var architecture in Candidates(file.Keys))
        {
            var reference = Signatures[architecture].Value;
            int modelKeys = 0, matching = 0;
            foreach (var (key, shape) in reference)
            {
                if (WeightsNameMapping.IsClassifier(key) && numClasses == 0)
                    continue;
                bool counter = WeightsNameMapping.IsBatchCounter(key);
                if (counter && !file.ContainsKey(key))
                    continue;
                modelKeys++;
                if (file.TryGetValue(key, out var found) && found.SequenceEqual(Expected(key, shape, numClasses, inChannels)))
                    matching++;
            }
            matches.Add(new ArchitectureMatch(architecture, ResNetModels.Name(architecture), numClasses, inChannels, matching, modelKeys, fileKeys));
        }
        return matches.OrderByDescending(m => m.IsExact).ThenByDescending(m => m.Score).ToList();
    }

    /// <summary>The architecture whose keys and shapes all match, or null.</summary>
    public static ArchitectureMatch? Detect(IReadOnlyList<NamedTensor> tensors) => Rank(tensors).FirstOrDefault(m => m.IsExact);

    /// <summary>A reference shape with the class count and input channels of the file put in.</summary>
    private static IEnumerable<long> Expected(string key, long[] shape, int numClasses, int inChannels)
    {
        var expected = (long[])shape.Clone();
        if (WeightsNameMapping.IsClassifier(key))
            expected[0] = numClasses;
        else if (key == WeightsNameMapping.InputConvWeight)
            expected[1] = inChannels;
        return expected;
    }

    private static IReadOnlyList<long> SqueezeHead(NamedTensor t) =>
        WeightsNameMapping.ToModelKey(t.Name) == WeightsNameMapping.Classifier + "weight" && t.Shape.Count == 4 && t.Shape[2] == 1 && t.Shape[3] == 1
            ? [t.Shape[0], t.Shape[1]]
            : t.Shape;

    /// <summary>The architectures with the file's blocks per stage, else those with its number of stages.</summary>
    private static IEnumerable<ResNetArchitecture> Candidates(IEnumerable<string> keys)
    {
        var blocks = new SortedDictionary<int, int>();
        foreach (string key in keys)
        {
            var m = StageBlock().Match(key);
            if (m.Success)
            {
                int stage = int.Parse(m.Groups[1].Value), block = int.Parse(m.Groups[2].Value);
                blocks[stage] = Math.Max(blocks.GetValueOrDefault(stage), block + 1);
            }
        }
        var all = Enum.GetValues<ResNetArchitecture>();
        var layers = all.Where(a => ResNetModels.Options(a).Layers.SequenceEqual(blocks.Values)).ToList();
        return layers.Count > 0 ? layers : all.Where(a => ResNetModels.Options(a).Layers.Count == blocks.Count);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^layer(\d{1,3})\.(\d{1,4})\.")]
    private static partial System.Text.RegularExpressions.Regex StageBlock();

    /// <summary>Keys and shapes of an architecture with a one-class head and RGB input.</summary>
    private static Dictionary<string, long[]> BuildSignature(ResNetArchitecture architecture)
    {
        using var model = ResNetModels.Build(architecture, numClasses: 1);
        return model.OrderedStateDict().ToDictionary(e => e.Key, e => e.Value.shape, StringComparer.Ordinal);
    }
}
