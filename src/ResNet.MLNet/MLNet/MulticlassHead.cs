using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;

namespace ResNet.MLNet;

/// <summary>
/// The classifier's last step, built from ML.NET's own multiclass model so that it saves natively and reloads in plain
/// ML.NET: a maximum-entropy model with identity weights and zero bias over the network's logits computes
/// Score = softmax(logits) and PredictedLabel = argmax as a key whose values are the class names. (ONNX outputs reach
/// ML.NET as vectors only, so an argmax from the graph could not become the scalar key that Evaluate and
/// MapKeyToValue expect.) ML.NET keeps these constructors internal; they are called by reflection.
/// </summary>
internal static class MulticlassHead
{
    private const BindingFlags Any = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;

    public static ITransformer Create(IReadOnlyList<string> classes, string logitsColumn, string scoreColumn, string predictedLabelColumn)
    {
        int k = classes.Count;
        var ml = new MLContext(seed: 0);
        var env = (IHostEnvironment)ml;
        var weights = Enumerable.Range(0, k).Select(c =>
        {
            var row = new float[k];
            row[c] = 1;
            return new VBuffer<float>(k, row);
        }).ToArray();
        var modelCtor = typeof(MaximumEntropyModelParameters).GetConstructors(Any)
            .Single(c => c.GetParameters() is { Length: 7 } p && p[1].ParameterType == typeof(VBuffer<float>[]));
        var model = (MaximumEntropyModelParameters)modelCtor.Invoke([env, weights, new float[k], k, k, classes.ToArray(), null]);

        // A one-row schema with the logits and a label key whose key values are the classes (for PredictedLabel's annotation).
        const string label = "resnet.head.label";
        var sample = ml.Data.LoadFromEnumerable([new SchemaRow { Logits = new float[k], Label = classes[0] }],
            SchemaDefinition.Create(typeof(SchemaRow)).WithLogits(logitsColumn, k));
        var keyed = ml.Transforms.Conversion.MapValueToKey(label, nameof(SchemaRow.Label), keyData: LabelColumn.KeyData(classes)).Fit(sample).Transform(sample);

        var transformerCtor = typeof(MulticlassPredictionTransformer<MaximumEntropyModelParameters>).GetConstructors(Any)
            .Single(c => c.GetParameters() is { Length: 7 } p && p[2].ParameterType == typeof(DataViewSchema));
        return (ITransformer)transformerCtor.Invoke([env, model, keyed.Schema, logitsColumn, label, scoreColumn, predictedLabelColumn]);
    }

    private static SchemaDefinition WithLogits(this SchemaDefinition definition, string name, int size)
    {
        var column = definition[nameof(SchemaRow.Logits)];
        column.ColumnName = name;
        column.ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
        return definition;
    }

    private sealed class SchemaRow
    {
        public float[] Logits { get; set; } = [];
        public string Label { get; set; } = "";
    }
}
