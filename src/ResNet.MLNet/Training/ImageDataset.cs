namespace ResNet.MLNet.Training;

/// <summary>
/// Labeled images for <see cref="ResNetTrainer"/>: decoded into memory (<see cref="InMemoryImageDataset"/>, fastest for
/// small sets) or image files decoded batch by batch while training (<see cref="ImageFileDataset"/>, memory independent
/// of the number of images). Labels are class indices 0..K-1.
/// </summary>
public abstract class ImageDataset : IDisposable
{
    private readonly long[] labels;

    /// <exception cref="ArgumentException">A label is out of range or there are no classes.</exception>
    private protected ImageDataset(long[] labels, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        if (classNames.Count == 0)
            throw new ArgumentException("At least one class name is needed.", nameof(classNames));
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] < 0 || labels[i] >= classNames.Count)
                throw new ArgumentException($"Label {labels[i]} of image {i} is outside [0, {classNames.Count}) ({classNames.Count} classes).", nameof(labels));
        }
        this.labels = labels.ToArray();
        ClassNames = classNames.ToArray();
    }

    /// <summary>Number of images.</summary>
    public int Count => labels.Length;

    /// <summary>Number of classes (the length of <see cref="ClassNames"/>), whether or not each has images here.</summary>
    public int NumClasses => ClassNames.Count;

    /// <summary>The class names, by class index.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The label of every image.</summary>
    public IReadOnlyList<long> Labels => labels;

    /// <summary>Channels of the images as the dataset hands them to preprocessing (1 or 3).</summary>
    public abstract int Channels { get; }

    /// <summary>The labels of the images at <paramref name="indices"/>.</summary>
    internal long[] LabelsAt(ReadOnlySpan<int> indices)
    {
        var result = new long[indices.Length];
        for (int i = 0; i < indices.Length; i++)
            result[i] = labels[indices[i]];
        return result;
    }

    /// <summary>Class index by class name (ordinal), for mapping labels given as names.</summary>
    internal static Dictionary<string, long> ClassIndex(IReadOnlyList<string> classNames) =>
        classNames.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (long)p.i, StringComparer.Ordinal);

    /// <summary>Checks <paramref name="indices"/> all lie in [0, <see cref="Count"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">One does not; it is named.</exception>
    private protected void CheckIndices(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        foreach (int i in indices)
        {
            if (i < 0 || i >= Count)
                throw new ArgumentOutOfRangeException(nameof(indices), i, $"Index {i} is outside the dataset's {Count} images.");
        }
    }

    /// <summary>The indices of a stratified split of this dataset's rows (<see cref="StratifiedIndices(IReadOnlyList{long}, IReadOnlyList{string}, double, long, string)"/>).</summary>
    private protected (List<int> Train, List<int> Validation) StratifiedIndices(double validationFraction, long seed) =>
        StratifiedIndices(labels, ClassNames, validationFraction, seed, "validation");

    /// <summary>
    /// The one stratified split of the toolkit (validation sets here, the test split of an unsplit image folder in
    /// <c>ImageFolderFineTuning</c>): each class gives round(count x <paramref name="fraction"/>) rows to the held-out
    /// side, at least one, and keeps at least one for training. The choice depends only on <paramref name="seed"/>;
    /// both lists are in ascending order.
    /// </summary>
    /// <param name="labels">Class index of each row.</param>
    /// <param name="classNames">Class names, by index (for errors).</param>
    /// <param name="fraction">Share held out, strictly between 0 and 1.</param>
    /// <param name="seed">Seed of the choice.</param>
    /// <param name="heldOut">Name of the held-out side in errors ("validation", "test").</param>
    /// <exception cref="ArgumentOutOfRangeException">The fraction is not strictly between 0 and 1.</exception>
    /// <exception cref="ArgumentException">A class has fewer than two rows; the message names it.</exception>
    internal static (List<int> Train, List<int> Validation) StratifiedIndices(IReadOnlyList<long> labels, IReadOnlyList<string> classNames,
        double fraction, long seed, string heldOut)
    {
        if (!(fraction > 0 && fraction < 1))
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, $"The {heldOut} fraction must be strictly between 0 and 1.");
        var random = new RandomSource(seed);
        var train = new List<int>();
        var held = new List<int>();
        for (int c = 0; c < classNames.Count; c++)
        {
            int[] members = Enumerable.Range(0, labels.Count).Where(i => labels[i] == c).ToArray();
            if (members.Length < 2)
                throw new ArgumentException(
                    $"Class '{classNames[c]}' has {members.Length} image{(members.Length == 1 ? "" : "s")}; a stratified split needs at least 2 per class (one for training, one for {heldOut}).");
            random.Shuffle(members);
            int take = Math.Clamp((int)Math.Round(members.Length * fraction), 1, members.Length - 1);
            held.AddRange(members.Take(take));
            train.AddRange(members.Skip(take));
        }
        train.Sort();
        held.Sort();
        return (train, held);
    }

    /// <summary>Frees what the dataset holds.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the dataset's resources.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}
