using System.Globalization;
using Parquet;
using Parquet.Schema;

namespace ResNet.MLNet.Cli.Featurization;

/// <summary>A table of embeddings being written: one row per image (path, label, f0..fD-1).</summary>
internal interface IFeatureWriter : IDisposable
{
    void Add(string path, string label, ReadOnlySpan<float> features);

    /// <summary>Finishes the file; a writer disposed without it leaves an incomplete file for the caller to delete.</summary>
    void Complete();
}

internal static class FeatureWriters
{
    /// <summary>The writer for <paramref name="path"/>'s extension: <c>.csv</c> or <c>.parquet</c>.</summary>
    /// <exception cref="ArgumentException">Another extension.</exception>
    public static IFeatureWriter Create(string format, string path, int width, IReadOnlyDictionary<string, string> metadata) => format switch
    {
        ".csv" => new CsvFeatureWriter(path, width),
        ".parquet" => new ParquetFeatureWriter(path, width, metadata),
        _ => throw new ArgumentException($"--out '{path}': write .csv or .parquet (got '{format}')."),
    };
}

/// <summary>CSV (RFC 4180): a header <c>path,label,f0,...</c>, then one line per image, numbers in invariant culture.</summary>
internal sealed class CsvFeatureWriter : IFeatureWriter
{
    private readonly StreamWriter writer;

    public CsvFeatureWriter(string path, int width)
    {
        writer = new StreamWriter(path);
        writer.Write("path,label");
        for (int i = 0; i < width; i++)
            writer.Write(string.Create(CultureInfo.InvariantCulture, $",f{i}"));
        writer.WriteLine();
    }

    public void Add(string path, string label, ReadOnlySpan<float> features)
    {
        writer.Write(Csv(path));
        writer.Write(',');
        writer.Write(Csv(label));
        foreach (float v in features)
        {
            writer.Write(',');
            writer.Write(v.ToString(CultureInfo.InvariantCulture));
        }
        writer.WriteLine();
    }

    public void Complete() => writer.Flush();

    public void Dispose() => writer.Dispose();

    /// <summary>A CSV field: quoted when it holds a comma, a quote or a line break.</summary>
    private static string Csv(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : $"\"{field.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
}

/// <summary>
/// Parquet with the columns of the CSV: <c>path</c> and <c>label</c> (strings) and <c>f0..fD-1</c> (float32), in row
/// groups of <see cref="RowGroupRows"/> rows, so memory stays bounded whatever the number of images; the file's
/// key-value metadata records the model and the shard. Spark and pandas read a folder of such parts as one table.
/// </summary>
internal sealed class ParquetFeatureWriter : IFeatureWriter
{
    public const int RowGroupRows = 4096;

    private readonly FileStream stream;
    private readonly ParquetWriter writer;
    private readonly DataField<string> pathField = new("path");
    private readonly DataField<string> labelField = new("label");
    private readonly DataField<float>[] featureFields;
    private readonly List<string> paths = [];
    private readonly List<string> labels = [];
    private readonly float[][] columns;

    public ParquetFeatureWriter(string path, int width, IReadOnlyDictionary<string, string> metadata)
    {
        featureFields = Enumerable.Range(0, width).Select(i => new DataField<float>(string.Create(CultureInfo.InvariantCulture, $"f{i}"))).ToArray();
        columns = Enumerable.Range(0, width).Select(_ => new float[RowGroupRows]).ToArray();
        var schema = new ParquetSchema([pathField, labelField, .. featureFields]);
        stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        writer = ParquetWriter.CreateAsync(schema, stream).GetAwaiter().GetResult();
        writer.CustomMetadata = metadata.ToDictionary();
    }

    public void Add(string path, string label, ReadOnlySpan<float> features)
    {
        int row = paths.Count;
        for (int i = 0; i < features.Length; i++)
            columns[i][row] = features[i];
        paths.Add(path);
        labels.Add(label);
        if (paths.Count == RowGroupRows)
            Flush();
    }

    public void Complete()
    {
        Flush();
        writer.DisposeAsync().AsTask().GetAwaiter().GetResult(); // writes the footer
        stream.Flush(flushToDisk: true);
    }

    private void Flush()
    {
        if (paths.Count == 0)
            return;
        int rows = paths.Count;
        using (var group = writer.CreateRowGroup())
        {
            group.WriteAsync(pathField, paths).GetAwaiter().GetResult();
            group.WriteAsync(labelField, labels).GetAwaiter().GetResult();
            for (int i = 0; i < featureFields.Length; i++)
                group.WriteAsync(featureFields[i], new ReadOnlyMemory<float>(columns[i], 0, rows)).GetAwaiter().GetResult();
            group.CompleteValidate();
        }
        paths.Clear();
        labels.Clear();
    }

    /// <summary>Closes the file; without <see cref="Complete"/> it has no footer and is not a Parquet file.</summary>
    public void Dispose() => stream.Dispose();
}
