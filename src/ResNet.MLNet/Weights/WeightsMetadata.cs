using System.Globalization;

namespace ResNet.MLNet.Weights;

/// <summary>
/// What this toolkit records about weights in a file's string metadata (safetensors <c>__metadata__</c>): the
/// architecture, the classes of the head, the pretrained weights they started from, and the
/// <see cref="ImageModelInput"/> that feeds them. Every field is optional.
/// </summary>
public sealed record WeightsMetadata
{
    /// <summary>Key of <see cref="Architecture"/>.</summary>
    public const string ArchitectureKey = "architecture";
    /// <summary>Key of <see cref="NumClasses"/>.</summary>
    public const string NumClassesKey = "num_classes";
    /// <summary>Key of <see cref="PretrainedFrom"/>.</summary>
    public const string PretrainedFromKey = "pretrained_from";

    /// <summary>Registry name of the architecture, e.g. <c>resnet50</c>.</summary>
    public string? Architecture { get; init; }

    /// <summary>Classes of the head.</summary>
    public int? NumClasses { get; init; }

    /// <summary>Name of the pretrained weights training started from (e.g. <c>resnet18.mlnet_in1k</c>), when any.</summary>
    public string? PretrainedFrom { get; init; }

    /// <summary>Input size, resize and crop, normalization and class names the weights expect.</summary>
    public ImageModelInput? Input { get; init; }

    /// <summary>The string map written to the file, with only the fields that are set.</summary>
    public IReadOnlyDictionary<string, string> ToDictionary()
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Input is not null)
        {
            foreach (var (key, value) in Input.ToMetadata())
                map[key] = value;
        }
        if (Architecture is not null)
            map[ArchitectureKey] = Architecture;
        if (NumClasses is int n)
            map[NumClassesKey] = n.ToString(CultureInfo.InvariantCulture);
        if (PretrainedFrom is not null)
            map[PretrainedFromKey] = PretrainedFrom;
        return map;
    }

    /// <summary>Reads the fields this toolkit writes from a metadata map; absent or unparsable fields stay null.</summary>
    public static WeightsMetadata FromDictionary(IReadOnlyDictionary<string, string> map)
    {
        ArgumentNullException.ThrowIfNull(map);
        string? Get(string key) => map.TryGetValue(key, out var v) ? v : null;
        return new WeightsMetadata
        {
            Architecture = Get(ArchitectureKey),
            NumClasses = int.TryParse(Get(NumClassesKey), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : null,
            PretrainedFrom = Get(PretrainedFromKey),
            Input = ImageModelInput.FromMetadata(map),
        };
    }
}
