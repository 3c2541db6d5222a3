using System.Text;

namespace ResNet.MLNet.Weights;

/// <summary>A key whose shape in the file differs from the model's.</summary>
/// <param name="Key">The model's key.</param>
/// <param name="Expected">The model's shape.</param>
/// <param name="Found">The file's shape.</param>
public sealed record ShapeMismatch(string Key, IReadOnlyList<long> Expected, IReadOnlyList<long> Found)
{
    /// <inheritdoc />
    public override string ToString() => $"{Key}: model [{string.Join(", ", Expected)}], file [{string.Join(", ", Found)}]";
}

/// <summary>What <see cref="WeightsLoader"/> did: every key loaded, skipped, missing, unexpected or of another shape.</summary>
public sealed class LoadingReport
{
    internal LoadingReport(string source, string model, IReadOnlyList<string> loaded, IReadOnlyList<string> adapted, IReadOnlyList<string> skipped,
        IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<ShapeMismatch> shapeMismatches, string? headNote, bool strict)
    {
        Source = source;
        Model = model;
        Loaded = loaded;
        Adapted = adapted;
        Skipped = skipped;
        Missing = missing;
        Unexpected = unexpected;
        ShapeMismatches = shapeMismatches;
        HeadNote = headNote;
        Strict = strict;
    }

    /// <summary>The weight file (or the name given for in-memory tensors).</summary>
    public string Source { get; }

    /// <summary>The model's architecture name.</summary>
    public string Model { get; }

    /// <summary>Model keys that received the file's values (including adapted ones).</summary>
    public IReadOnlyList<string> Loaded { get; }

    /// <summary>Loaded keys whose values were adapted (the input convolution for another channel count).</summary>
    public IReadOnlyList<string> Adapted { get; }

    /// <summary>File keys deliberately not loaded: the classifier when it does not fit the model's head.</summary>
    public IReadOnlyList<string> Skipped { get; }

    /// <summary>Model keys the file has no value for; they keep their initial values.</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>File keys that match no model key.</summary>
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>Keys present in both whose shapes differ (and that could not be adapted).</summary>
    public IReadOnlyList<ShapeMismatch> ShapeMismatches { get; }

    /// <summary>Why the classifier head was left as initialized, or null when it was loaded (or there is none).</summary>
    public string? HeadNote { get; }

    /// <summary>Whether the head was left freshly initialized rather than loaded.</summary>
    public bool HeadReinitialized => HeadNote is not null;

    /// <summary>Whether the load was strict.</summary>
    public bool Strict { get; }

    /// <summary>Whether nothing is missing, unexpected or of another shape.</summary>
    public bool IsComplete => Missing.Count == 0 && Unexpected.Count == 0 && ShapeMismatches.Count == 0;

    /// <summary>A readable summary: counts, the head, adaptations and every problem.</summary>
    public override string ToString() => Describe(includeLoaded: false);

    /// <summary>The summary, optionally listing every loaded key.</summary>
    public string Describe(bool includeLoaded)
    {
        var text = new StringBuilder();
        int problems = Missing.Count + Unexpected.Count + ShapeMismatches.Count;
        if (Strict && problems > 0)
            text.Append($"The weights in '{Source}' do not fit {Model} (strict load, nothing was copied): ");
        else
            text.Append($"Loaded {Loaded.Count} tensors from '{Source}' into {Model}: ");
        text.AppendLine($"{Missing.Count} missing, {Unexpected.Count} unexpected, {ShapeMismatches.Count} shape mismatches.");
        if (HeadNote is not null)
            text.AppendLine($"  head: {HeadNote}");
        foreach (string key in Adapted)
            text.AppendLine($"  adapted: {key}");
        List("missing", Missing);
        List("unexpected", Unexpected);
        List("shape mismatch", ShapeMismatches.Select(m => m.ToString()).ToList());
        if (includeLoaded)
            List("loaded", Loaded);
        if (Strict && problems > 0)
            text.AppendLine("Load with WeightsLoadOptions { Strict = false } to load the tensors that fit and keep the rest as initialized.");
        return text.ToString().TrimEnd();

        void List(string label, IReadOnlyList<string> keys)
        {
            foreach (string key in keys)
                text.AppendLine($"  {label}: {key}");
        }
    }
}
