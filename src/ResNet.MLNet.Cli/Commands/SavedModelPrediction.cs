using ResNet.MLNet.Applications;
using Microsoft.ML;
using Microsoft.ML.Data;
using ResNet.MLNet.Data;

namespace ResNet.MLNet.Cli.Commands;

/// <summary>
/// A saved ML.NET classifier (<c>mlContext.Model.Load</c>), loaded once and scoring images one at a time: the model's
/// input is a row with an <c>ImagePath</c> text column (and optionally a text <c>Label</c>); it must output
/// <c>PredictedLabel</c> (a key whose values are the class names, or text) and a <c>Score</c> vector. Predictions may run
/// on several threads at once: each builds its own one-row view and cursor, and no prediction engine is shared.
/// </summary>
internal sealed class SavedModelPrediction : IDisposable
{
    public const string ImagePathColumn = "ImagePath";
    public const string LabelColumn = "Label";
    public const string PredictedLabelColumn = "PredictedLabel";
    public const string ScoreColumn = "Score";

    /// <summary>The predicted label, every score, and the top K scores with their class names when the model has them.</summary>
    public sealed record Result(string PredictedLabel, float[] Scores, IReadOnlyList<PredictCommand.Ranked> Top);

    private readonly MLContext ml = new(seed: 0);
    private readonly ITransformer model;

    /// <exception cref="FileNotFoundException">The model is missing.</exception>
    /// <exception cref="InvalidDataException">The model is not an ML.NET model taking an ImagePath text column.</exception>
    public SavedModelPrediction(string modelPath)
    {
        ModelPath = Path.GetFullPath(modelPath);
        if (!File.Exists(modelPath))
            throw new FileNotFoundException($"Model file '{ModelPath}' does not exist.", modelPath);
        model = ImageFolderFineTuning.LoadModel(ml, modelPath, out var inputSchema);
        try
        {
            CheckInput(inputSchema, ModelPath);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The model file, as a full path.</summary>
    public string ModelPath { get; }

    /// <summary>Scores one image (checked against <paramref name="limits"/> first, so a bad file is named, not failed on deep inside ML.NET).</summary>
    /// <exception cref="FileNotFoundException">The image is missing.</exception>
    /// <exception cref="InvalidDataException">The image cannot be decoded, or the model does not output a classifier's columns.</exception>
    public Result Predict(string imagePath, int k, ImageLimits limits)
    {
        ImageTensor.Load(imagePath, limits);
        var row = new ImageRow { ImagePath = Path.GetFullPath(imagePath) };
        var scored = model.Transform(ml.Data.LoadFromEnumerable([row]));
        var predicted = Output(scored.Schema, PredictedLabelColumn, ModelPath);
        var score = Output(scored.Schema, ScoreColumn, ModelPath);
        if (score.Type is not VectorDataViewType { ItemType: NumberDataViewType n } || n.RawType != typeof(float))
            throw new InvalidDataException($"'{ModelPath}': column '{ScoreColumn}' is {score.Type}; expected a vector of Single.");

        using var cursor = scored.GetRowCursor([predicted, score]);
        var readLabel = LabelReader(cursor, predicted);
        var scores = cursor.GetGetter<VBuffer<float>>(score);
        cursor.MoveNext();
        string label = readLabel();
        VBuffer<float> values = default;
        scores(ref values);
        float[] dense = values.DenseValues().ToArray();
        var names = ClassNames(score, predicted, dense.Length);
        var top = PredictCommand.TopK(dense.Select(v => (double)v).ToArray(), k)
            .Select(i => new PredictCommand.Ranked(i, names?[i], dense[i])).ToList();
        return new Result(label, dense, top);
    }

    /// <summary>Loads the model, scores one image, and releases the model.</summary>
    public static Result Predict(string modelPath, string imagePath, int k, ImageLimits limits)
    {
        using var saved = new SavedModelPrediction(modelPath);
        return saved.Predict(imagePath, k, limits);
    }

    public void Dispose() => (model as IDisposable)?.Dispose();

    private static void CheckInput(DataViewSchema input, string model)
    {
        if (input.GetColumnOrNull(ImagePathColumn) is not { Type: TextDataViewType })
            throw new InvalidDataException(
                $"'{model}' expects input columns {string.Join(", ", input.Select(c => $"{c.Name} ({c.Type})"))}; predict needs a text column '{ImagePathColumn}'.");
        if (input.GetColumnOrNull(LabelColumn) is { Type: not TextDataViewType } label)
            throw new InvalidDataException($"'{model}' expects column '{LabelColumn}' of type {label.Type}; predict supplies a text label.");
    }

    private static DataViewSchema.Column Output(DataViewSchema schema, string name, string model) =>
        schema.GetColumnOrNull(name) ?? throw new InvalidDataException(
            $"'{model}' outputs no '{name}' column (it outputs {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => c.Name))}): predict needs a multiclass classifier.");

    /// <summary>Reads PredictedLabel as text: a key's value (its class name) or the text itself.</summary>
    private static Func<string> LabelReader(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        if (column.Type is TextDataViewType)
        {
            var text = cursor.GetGetter<ReadOnlyMemory<char>>(column);
            return () => { ReadOnlyMemory<char> v = default; text(ref v); return v.ToString(); };
        }
        if (column.Type is KeyDataViewType key)
        {
            var names = KeyNames(column, (int)key.Count);
            var value = cursor.GetGetter<uint>(column);
            return () =>
            {
                uint v = 0;
                value(ref v);
                return v == 0 ? "" : names?[v - 1] ?? (v - 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            };
        }
        throw new InvalidDataException($"Column '{column.Name}' is {column.Type}; expected a key or text.");
    }

    /// <summary>Class names from the Score column's slot names, else from PredictedLabel's key values; null when neither has them.</summary>
    private static string[]? ClassNames(DataViewSchema.Column score, DataViewSchema.Column predicted, int count)
    {
        if (score.HasSlotNames())
        {
            VBuffer<ReadOnlyMemory<char>> slots = default;
            score.GetSlotNames(ref slots);
            var named = slots.DenseValues().Select(s => s.ToString()).ToArray();
            if (named.Length == count)
                return named;
        }
        return predicted.Type is KeyDataViewType key && key.Count == (ulong)count ? KeyNames(predicted, count) : null;
    }

    private static string[]? KeyNames(DataViewSchema.Column column, int count)
    {
        if (column.Annotations.Schema.GetColumnOrNull("KeyValues") is not { Type: VectorDataViewType { ItemType: TextDataViewType } })
            return null;
        VBuffer<ReadOnlyMemory<char>> values = default;
        column.GetKeyValues(ref values);
        var names = values.DenseValues().Select(s => s.ToString()).ToArray();
        return names.Length == count ? names : null;
    }

    private sealed class ImageRow
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
    }
}
