using System.Globalization;

namespace ResNet.MLNet.Weights;

/// <summary>
/// What this toolkit records about weights in a safetensors <c>__metadata__</c> map: the architecture, the classes of
/// the head, and the preprocessing the weights expect. Every field is optional.
/// </summary>
public sealed record WeightsMetadata
{
    /// <summary>Key of <see cref="Architecture"/>.</summary>
    public const string ArchitectureKey = "architecture";
    /// <summary>Key of <see cref="NumClasses"/>.</summary>
    public const string NumClassesKey = "num_classes";
    /// <summary>Key of <see cref="Mean"/> (comma-separated floats).</summary>
    public const string MeanKey = "mean";
    /// <summary>Key of <see cref="Std"/> (comma-separated floats).</summary>
    public const string StdKey = "std";
    /// <summary>Key of <see cref="InputSize"/> (comma-separated channels, height, width).</summary>
    public const string InputSizeKey = "input_size";

    /// <summary>Registry name of the architecture, e.g. <c>resnet50</c>.</summary>
    public string? Architecture { get; init; }

    /// <summary>Classes of the head.</summary>
    public int? NumClasses { get; init; }

    /// <summary>Per-channel mean the inputs are normalized with, e.g. ImageNet's 0.485, 0.456, 0.406.</summary>
    public IReadOnlyList<float>? Mean { get; init; }

    /// <summary>Per-channel standard deviation the inputs are normalized with.</summary>
    public IReadOnlyList<float>? Std { get; init; }

    /// <summary>Input size as channels, height, width, e.g. 3, 224, 224.</summary>
    public IReadOnlyList<int>? InputSize { get; init; }

    /// <summary>The string map written to <c>__metadata__</c>, with only the fields that are set.</summary>
    public IReadOnlyDictionary<string, string> ToDictionary()
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Architecture is not null)
            map[ArchitectureKey] = Architecture;
        if (NumClasses is int n)
            map[NumClassesKey] = n.ToString(CultureInfo.InvariantCulture);
        if (Mean is not null)
            map[MeanKey] = Join(Mean);
        if (Std is not null)
            map[StdKey] = Join(Std);
        if (InputSize is not null)
            map[InputSizeKey] = string.Join(",", InputSize.Select(v => v.ToString(CultureInfo.InvariantCulture)));
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
            Mean = Parse(Get(MeanKey), ParseFloat),
            Std = Parse(Get(StdKey), ParseFloat),
            InputSize = Parse(Get(InputSizeKey), s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) ? i : (int?)null),
        };
    }

    private static string Join(IEnumerable<float> values) => string.Join(",", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    private static float? ParseFloat(string s) => float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out float f) ? f : null;

    private static T[]? Parse<T>(string? text, Func<string, T?> parse) where T : struct
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        var parts = text.Split(',').Select(p => parse(p.Trim())).ToArray();
        return parts.All(p => p.HasValue) ? parts.Select(p => p!.Value).ToArray() : null;
    }
}
