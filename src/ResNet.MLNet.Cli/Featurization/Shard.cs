using System.Globalization;

namespace ResNet.MLNet.Cli.Featurization;

/// <summary>
/// Part <see cref="Index"/> of <see cref="Count"/> (0-based) of a sorted file list: every item whose position p has
/// p mod Count = Index, as PyTorch's <c>DistributedSampler</c> deals them. Every item falls in exactly one shard, the
/// shards differ in size by at most one, and each keeps the list's order.
/// </summary>
internal readonly record struct Shard(int Index, int Count)
{
    /// <summary>The whole list.</summary>
    public static Shard All => new(0, 1);

    /// <summary>Parses <c>i/n</c> with 0 &lt;= i &lt; n.</summary>
    /// <exception cref="ArgumentException">The text is not of that form; the message says what is expected.</exception>
    public static Shard Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count))
            throw new ArgumentException($"--shard '{text}' is not of the form i/n (shard i of n, counted from 0: 0/4, 1/4, 2/4, 3/4).");
        if (count < 1)
            throw new ArgumentException($"--shard '{text}': the number of shards must be at least 1.");
        if (index >= count)
            throw new ArgumentException($"--shard '{text}': shards are numbered from 0 to {count - 1}, so {index} is not one of them.");
        return new Shard(index, count);
    }

    /// <summary>This shard's items, in the list's order.</summary>
    public IReadOnlyList<T> Select<T>(IReadOnlyList<T> items)
    {
        var (index, count) = (Index, Count);
        return items.Where((_, p) => p % count == index).ToList();
    }

    /// <summary>The file name of this part, e.g. <c>part-00001-of-00004.parquet</c>.</summary>
    public string PartName(string extension) => string.Create(CultureInfo.InvariantCulture, $"part-{Index:D5}-of-{Count:D5}{extension}");

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");
}
