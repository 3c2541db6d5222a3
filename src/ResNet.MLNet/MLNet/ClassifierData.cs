using Microsoft.ML;
using Microsoft.ML.Data;
using ResNet.MLNet.Data;
using ResNet.MLNet.Native;
using ResNet.MLNet.Training;
using TorchSharp;

namespace ResNet.MLNet;

/// <summary>The label column of a classifier: its checks, its classes, and the PredictedLabel key built from an argmax.</summary>
internal static class LabelColumn
{
    /// <summary>Fails like ML.NET when the label is missing or neither a key nor a string.</summary>
    public static void Check(Func<string, ColumnShape?> find, string column)
    {
        if (find(column) is not { } col)
            throw new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for input column '{column}': the label column is missing.");
        bool ok = col.Kind == SchemaShape.Column.VectorKind.Scalar && (col.IsKey || col.ItemType is TextDataViewType);
        if (!ok)
            throw new ArgumentOutOfRangeException("inputSchema",
                $"Schema mismatch for input column '{column}': expected Key (from MapValueToKey) or String, got {col}.");
    }

    /// <summary>Class names in key order: the key's values (or 0..K-1), or the sorted distinct strings of a text label.</summary>
    public static IReadOnlyList<string> ClassNames(IDataView data, string labelColumn)
    {
        var column = data.Schema[labelColumn];
        if (column.Type is KeyDataViewType key)
        {
            if (column.HasKeyValues())
            {
                VBuffer<ReadOnlyMemory<char>> names = default;
                column.GetKeyValues(ref names);
                return names.DenseValues().Select(n => n.ToString()).ToList();
            }
            return Enumerable.Range(0, (int)key.Count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        }
        var distinct = new SortedSet<string>(StringComparer.Ordinal);
        using var cursor = data.GetRowCursor([column]);
        var getter = cursor.GetGetter<ReadOnlyMemory<char>>(column);
        ReadOnlyMemory<char> value = default;
        while (cursor.MoveNext())
        {
            getter(ref value);
            if (!value.IsEmpty)
                distinct.Add(value.ToString());
        }
        return distinct.ToList();
    }

    /// <summary>A one-column data view of the class names, the <c>keyData</c> that fixes a key's values and order.</summary>
    public static IDataView KeyData(IReadOnlyList<string> classes) =>
        new MLContext(seed: 0).Data.LoadFromEnumerable(classes.Select(c => new ClassName { Value = c }));

    private sealed class ClassName
    {
        public string Value { get; set; } = "";
    }
}

/// <summary>Loads an ML.NET image/label data view into an <see cref="InMemoryImageDataset"/> for training.</summary>
internal static class ClassifierData
{
    /// <summary>
    /// Resizes every image with ML.NET's transforms (as the fitted pipeline does) to the input size of
    /// <paramref name="modelInput"/>, keeps the pixels as bytes, and maps labels to class indices.
    /// </summary>
    /// <exception cref="InvalidDataException">A label is missing or unknown, or an image cannot be read (file and row named).</exception>
    public static InMemoryImageDataset Load(TransformsCatalog transforms, IDataView data, string imageColumn, string labelColumn,
        IReadOnlyList<string> classes, ImageModelInput modelInput, string? pathColumnName, string role, ImageLimits imageLimits)
    {
        ImagePipeline.CheckImageFiles(data, pathColumnName, imageLimits); // before ML.NET decodes (possibly ahead, on worker threads)
        const string resized = "resnet.train.resized", pixels = "resnet.train.pixels";
        int size = modelInput.ImageSize, channels = modelInput.Channels;
        var view = ImagePipeline.Resize(transforms, imageColumn, resized, modelInput)
            .Append(ImagePipeline.ExtractPixels(transforms, resized, pixels, channels, asBytes: true)).Fit(data).Transform(data);
        var label = view.Schema[labelColumn];
        var pathColumn = pathColumnName is null ? null : view.Schema.GetColumnOrNull(pathColumnName);
        long rows = RowCount(data);
        if (rows == 0)
            throw new InvalidDataException($"The {role} data has no rows.");
        if (rows > Array.MaxLength)
            throw new InvalidDataException($"The {role} data has {rows} rows; at most {Array.MaxLength} fit in memory (stream them from files instead).");
        int perImage = channels * size * size;
        // One native buffer, filled row by row: it may exceed .NET's 2 GB array limit (224x224 RGB from ~14,300 images).
        TorchRuntime.EnsureInitialized();
        var images = torch.empty([rows, channels, size, size], torch.ScalarType.Byte);
        var labels = new long[rows];
        var index = ImageDataset.ClassIndex(classes);
        try
        {
            using var cursor = view.GetRowCursor(pathColumn is { } p ? [view.Schema[pixels], label, p] : [view.Schema[pixels], label]);
            var pixelGetter = cursor.GetGetter<VBuffer<byte>>(view.Schema[pixels]);
            Func<long> labelOf = LabelReader(cursor, label, index, role);
            VBuffer<byte> buffer = default;
            var dense = new byte[perImage];
            long row = -1;
            while (Move(cursor, data, pathColumn?.Name, row))
            {
                row++;
                labels[row] = labelOf();
                pixelGetter(ref buffer);
                buffer.CopyTo(dense);
                using var slot = images[row];
                slot.bytes = dense;
            }
            return new InMemoryImageDataset(images, labels, classes);
        }
        catch
        {
            images.Dispose();
            throw;
        }
    }

    /// <summary>Bytes that <paramref name="rows"/> images take decoded at <paramref name="input"/>'s size and channels, as bytes.</summary>
    public static long DecodedBytes(long rows, ImageModelInput input) => rows * input.Channels * input.ImageSize * input.ImageSize;

    /// <summary>
    /// The rows as image files for streaming: each row's path (from <paramref name="pathColumnName"/>) and label, nothing
    /// decoded. Every file's header is checked first, and all bad files are reported at once.
    /// </summary>
    /// <exception cref="InvalidDataException">A label is missing or unknown, a path is empty, or files are unreadable (each named).</exception>
    public static ImageFileDataset LoadFiles(IDataView data, string pathColumnName, string labelColumn, IReadOnlyList<string> classes, string role, ImageLimits imageLimits)
    {
        ImagePipeline.CheckImageFiles(data, pathColumnName, imageLimits);
        var pathColumn = data.Schema[pathColumnName];
        var label = data.Schema[labelColumn];
        var index = ImageDataset.ClassIndex(classes);
        var paths = new List<string>();
        var labels = new List<long>();
        using (var cursor = data.GetRowCursor([pathColumn, label]))
        {
            var pathGetter = cursor.GetGetter<ReadOnlyMemory<char>>(pathColumn);
            Func<long> labelOf = LabelReader(cursor, label, index, role);
            ReadOnlyMemory<char> path = default;
            while (cursor.MoveNext())
            {
                pathGetter(ref path);
                if (path.IsEmpty)
                    throw new InvalidDataException($"Row {cursor.Position} of the {role} data has an empty path (column '{pathColumnName}'): streaming needs a file for every row.");
                paths.Add(path.ToString());
                labels.Add(labelOf());
            }
        }
        if (labels.Count == 0)
            throw new InvalidDataException($"The {role} data has no rows.");
        return new ImageFileDataset(paths, labels.ToArray(), classes, imageLimits);
    }

    /// <summary>The rows of <paramref name="data"/>: its known count, else counted with a cursor that reads no column.</summary>
    public static long RowCount(IDataView data)
    {
        if (data.GetRowCount() is long known)
            return known;
        using var cursor = data.GetRowCursor([]);
        long count = 0;
        while (cursor.MoveNext())
            count++;
        return count;
    }

    private static bool Move(DataViewRowCursor cursor, IDataView data, string? pathColumn, long row)
    {
        try
        {
            return cursor.MoveNext();
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException)
        {
            var (bad, path) = ImagePipeline.FindUnreadableImage(data, pathColumn, row + 1);
            throw ImagePipeline.RowError(bad, path, e);
        }
    }

    private static Func<long> LabelReader(DataViewRowCursor cursor, DataViewSchema.Column label, Dictionary<string, long> index, string role)
    {
        if (label.Type is KeyDataViewType)
        {
            var getter = cursor.GetGetter<uint>(label);
            return () =>
            {
                uint key = 0;
                getter(ref key);
                if (key == 0 || key > index.Count)
                    throw new InvalidDataException($"Row {cursor.Position} of the {role} data has a missing label (column '{label.Name}').");
                return key - 1;
            };
        }
        var text = cursor.GetGetter<ReadOnlyMemory<char>>(label);
        return () =>
        {
            ReadOnlyMemory<char> value = default;
            text(ref value);
            return index.TryGetValue(value.ToString(), out long k)
                ? k
                : throw new InvalidDataException($"Row {cursor.Position} of the {role} data has label '{value}' (column '{label.Name}'), which is not one of the classes: {string.Join(", ", index.Keys)}.");
        };
    }
}
