using ResNet.MLNet.Models;

namespace ResNet.MLNet.Weights;

/// <summary>How well a weight file's keys and shapes fit one architecture of the zoo.</summary>
/// <param name="Architecture">The zoo architecture compared with.</param>
/// <param name="Name">Its registry name.</param>
/// <param name="NumClasses">Classes of the file's classifier (0 when it has none), used to build the comparison model.</param>
/// <param name="InChannels">Input channels of the file's first convolution.</param>
/// <param name="Matching">Keys present in both with equal shapes.</param>
/// <param name="ModelKeys">Keys of the architecture.</param>
/// <param name="FileKeys">Keys of the file (after prefix and head renaming).</param>
public sealed record ArchitectureMatch(ResNetArchitecture Architecture, string Name, int NumClasses, int InChannels, int Matching, int ModelKeys, int FileKeys)
{
    /// <summary>Every key of both sides matches (BatchNorm counters the file lacks excepted).</summary>
    public bool IsExact => Matching == ModelKeys && Matching == FileKeys;

    /// <summary>Matching keys over the larger key count, 0 to 1.</summary>
    public double Score => Math.Max(ModelKeys, FileKeys) == 0 ? 0 : (double)Matching / Math.Max(ModelKeys, FileKeys);

    /// <inheritdoc />
    public override string ToString() =>
        IsExact
            ? $"{Name} ({NumClasses} classes, {InChannels} input channels)"
            : $"closest: {Name} ({Matching} of {ModelKeys} keys match; the file has {FileKeys})";
}

/// <summary>Tells which zoo architecture a weight file was saved from, by its keys and shapes.</summary>
public static class ArchitectureDetector
{
    private static readonly Lazy<IReadOnlyList<(ResNetArchitecture Architecture, Dictionary<string, long[]> Shapes)>> Signatures = new(BuildSignatures);

    /// <summary>
    /// Compares the tensors with every architecture of <see cref="ResNetArchitecture"/>, built with the file's class count
    /// (from <c>fc.weight</c>) and input channels (from <c>conv1.weight</c>); returns the matches best first.
    /// The first call builds each architecture once (a few seconds); later calls reuse the keys and shapes.
    /// </summary>
    public static IReadOnlyList<ArchitectureMatch> Rank(IReadOnlyList<NamedTensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var file = new Dictionary<string, IReadOnlyList<long>>(StringComparer.Ordinal);
        foreach (var t in WeightsNameMapping.StripDataParallelPrefix(tensors))
            file.TryAdd(WeightsNameMapping.ToModelKey(t.Name), SqueezeHead(t));
        int numClasses = file.TryGetValue(WeightsNameMapping.Classifier + "weight", out var fc) && fc.Count == 2 ? (int)fc[0] : 0;
        int inChannels = file.TryGetValue(WeightsNameMapping.InputConvWeight, out var conv) && conv.Count == 4 ? (int)conv[1] : 3;

        var matches = new List<ArchitectureMatch>();
        foreach (var (architecture, reference) in Signatures.Value)
        {
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
            matches.Add(new ArchitectureMatch(architecture, ResNetModels.Name(architecture), numClasses, inChannels, matching, modelKeys, file.Count));
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

    /// <summary>Keys and shapes of every architecture with a one-class head and RGB input, built one at a time.</summary>
    private static IReadOnlyList<(ResNetArchitecture, Dictionary<string, long[]>)> BuildSignatures()
    {
        var signatures = new List<(ResNetArchitecture, Dictionary<string, long[]>)>();
        foreach (var architecture in Enum.GetValues<ResNetArchitecture>())
        {
            using var model = ResNetModels.Build(architecture, numClasses: 1);
            signatures.Add((architecture, model.OrderedStateDict().ToDictionary(e => e.Key, e => e.Value.shape, StringComparer.Ordinal)));
        }
        return signatures;
    }
}
