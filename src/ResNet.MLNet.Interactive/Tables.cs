using ResNet.MLNet.Applications;
using System.Globalization;
using Microsoft.ML.Data;
using ResNet.MLNet.Models;
using ResNet.MLNet.Training;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Interactive;

/// <summary>The toolkit's results as <see cref="Table"/>s: what the notebook formatters and the console display show.</summary>
public static class Tables
{
    /// <summary>Per-stage output shapes, parameters and MACs, with a total row.</summary>
    public static Table Of(ModelSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var rows = summary.Stages
            .Select(s => Row(s.Name, string.Join(" x ", s.OutputShape), Table.Count(s.Parameters), Table.Count(s.Macs)))
            .Append(Row("total", "", Table.Count(summary.Parameters), Table.Count(summary.Macs)))
            .ToList();
        string caption = string.Create(CultureInfo.InvariantCulture,
            $"{summary.Architecture} at {summary.InputSize}x{summary.InputSize}: {summary.Parameters / 1e6:0.00}M parameters, {summary.Macs / 1e9:0.000} GMACs per image");
        return new Table(caption, ["stage", "output shape", "parameters", "MACs"], rows);
    }

    /// <summary>What a weight load did: counts, the head, and every adapted, skipped, missing, unexpected or mismatched key.</summary>
    public static Table Of(LoadingReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var rows = new List<IReadOnlyList<TableCell>>
        {
            Row("loaded", Table.Count(report.Loaded.Count), Summarize(report.Loaded, 2)),
            Row("adapted", Table.Count(report.Adapted.Count), Summarize(report.Adapted)),
            Row("skipped", Table.Count(report.Skipped.Count), Summarize(report.Skipped)),
            Row("missing", Table.Count(report.Missing.Count), Summarize(report.Missing)),
            Row("unexpected", Table.Count(report.Unexpected.Count), Summarize(report.Unexpected)),
            Row("shape mismatches", Table.Count(report.ShapeMismatches.Count), Summarize(report.ShapeMismatches.Select(m => m.ToString()).ToList())),
        };
        string verdict = report.IsComplete ? "complete" : report.Strict ? "refused (strict)" : "partial";
        var notes = new List<string>();
        if (report.HeadNote is not null)
            notes.Add($"head: {report.HeadNote}");
        return new Table($"{report.Source} -> {report.Model}: {verdict}", ["keys", "count", "which"], rows, notes);
    }

    /// <summary>One row per epoch: losses, accuracies, learning rate, time and throughput; the epoch the model holds is marked.</summary>
    public static Table Of(TrainingResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var rows = result.History.Select(e => Row(
            e.Epoch == result.BestEpoch ? $"{e.Epoch} *" : e.Epoch.ToString(CultureInfo.InvariantCulture),
            Table.Number(e.TrainLoss), Table.Number(e.TrainAccuracy),
            e.ValidationLoss is double vl ? Table.Number(vl) : "", e.ValidationAccuracy is double va ? Table.Number(va) : "",
            Table.Number(e.LearningRate, "0.00000"), Table.Number(e.Seconds, "0.0"), Table.Number(e.ImagesPerSecond, "0.0"))).ToList();
        var notes = new List<string> { $"* the epoch whose weights the model holds{(result.StoppedEarly ? " (stopped early)" : "")}" };
        if (result.ResumedFromEpoch > 0)
            notes.Add($"resumed after epoch {result.ResumedFromEpoch}");
        if (result.Cancelled)
            notes.Add("cancelled; the unfinished epoch was rolled back");
        return new Table($"training history: {result.History.Count} epochs, {result.History.Sum(e => e.Seconds):0.0} s",
            ["epoch", "train loss", "train acc", "val loss", "val acc", "learning rate", "seconds", "images/s"], rows, notes);
    }

    /// <summary>Micro and macro accuracy, log-loss and its reduction, and top-K accuracy when it was asked for.</summary>
    public static Table Of(MulticlassClassificationMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var rows = new List<IReadOnlyList<TableCell>>
        {
            Row("micro accuracy", Table.Number(metrics.MicroAccuracy)),
            Row("macro accuracy", Table.Number(metrics.MacroAccuracy)),
            Row("log-loss", Table.Number(metrics.LogLoss)),
            Row("log-loss reduction", Table.Number(metrics.LogLossReduction)),
        };
        if (metrics.TopKPredictionCount > 0)
            rows.Add(Row($"top-{metrics.TopKPredictionCount} accuracy", Table.Number(metrics.TopKAccuracy)));
        return new Table("multiclass metrics", ["metric", "value"], rows);
    }

    /// <summary>
    /// A confusion matrix with true classes as rows and predicted classes as columns, each cell shaded by its share of the
    /// row, with per-class recall and precision. <paramref name="classNames"/> name the classes in key order (default: 0, 1, ...).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="classNames"/> does not name every class.</exception>
    public static Table Of(ConfusionMatrix matrix, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        int n = matrix.NumberOfClasses;
        classNames ??= Enumerable.Range(0, n).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();
        if (classNames.Count != n)
            throw new ArgumentException($"The matrix has {n} classes; {classNames.Count} class names were given.", nameof(classNames));

        var rows = new List<IReadOnlyList<TableCell>>();
        for (int t = 0; t < n; t++)
        {
            double total = matrix.Counts[t].Sum();
            var cells = new List<TableCell> { classNames[t] };
            cells.AddRange(matrix.Counts[t].Select(c => new TableCell(c.ToString("0", CultureInfo.InvariantCulture), true, total > 0 ? c / total : 0)));
            cells.Add(Table.Number(matrix.PerClassRecall[t], "0.000"));
            rows.Add(cells);
        }
        rows.Add([new TableCell("precision"), .. matrix.PerClassPrecision.Select(p => Table.Number(p, "0.000")), ""]);
        return new Table("confusion matrix (rows: true class, columns: predicted)", ["", .. classNames, "recall"], rows);
    }

    /// <summary>
    /// Objects (records, anonymous types) as a table with a column per public property, in declaration order; numbers are
    /// right-aligned.
    /// </summary>
    public static Table OfRows(System.Collections.IEnumerable rows, string? caption = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var items = rows.Cast<object?>().ToList();
        var properties = items.FirstOrDefault(i => i is not null)?.GetType().GetProperties().Where(p => p.GetIndexParameters().Length == 0).ToArray() ?? [];
        var table = items.Select(item => (IReadOnlyList<TableCell>)properties.Select(p => Cell(item is null ? null : p.GetValue(item))).ToList()).ToList();
        return new Table(caption, properties.Select(p => p.Name).ToList(), table);
    }

    /// <summary>One object's public properties as name and value rows.</summary>
    public static Table OfProperties(object value, string? caption = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        var rows = value.GetType().GetProperties().Where(p => p.GetIndexParameters().Length == 0)
            .Select(p => Row(p.Name, Cell(p.GetValue(value)))).ToList();
        return new Table(caption, ["property", "value"], rows);
    }

    private static TableCell Cell(object? value) => value switch
    {
        null => "",
        float or double or decimal => new TableCell(Convert.ToDouble(value, CultureInfo.InvariantCulture).ToString("G6", CultureInfo.InvariantCulture), Numeric: true),
        sbyte or byte or short or ushort or int or uint or long or ulong => new TableCell(Convert.ToString(value, CultureInfo.InvariantCulture)!, Numeric: true),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>A row of cells.</summary>
    internal static IReadOnlyList<TableCell> Row(params TableCell[] cells) => cells;

    /// <summary>The first <paramref name="shown"/> keys and how many more (the full lists are on the report).</summary>
    private static string Summarize(IReadOnlyList<string> keys, int shown = 4) =>
        keys.Count <= shown + 1 ? string.Join("; ", keys) : $"{string.Join("; ", keys.Take(shown))}; ... ({keys.Count - shown} more)";
}
