using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using ResNet.MLNet.Onnx;

namespace ResNet.MLNet;

/// <summary>
/// The classifier's last step, made of ML.NET's public parts so that it saves natively and reloads in plain ML.NET:
/// Score = softmax(logits) with the class names as slot names, and PredictedLabel = argmax as a key whose values are
/// the class names, as ML.NET's own multiclass trainers give them.
/// </summary>
/// <remarks>
/// ML.NET builds such columns only in its trainers' prediction transformers, whose constructors are internal. So the
/// head is one: ML.NET's documented <c>LbfgsMaximumEntropy</c> trainer is fitted on one synthetic row per class, which
/// gives a maximum-entropy model (Score = softmax(W x + b)) that carries the class names. Its weights are then undone:
/// a small ONNX graph before it maps the logits z to x = A⁻¹ (z - b), with A = W + c 1 1ᵀ, so that W x + b equals z up
/// to the same constant in every class, which softmax ignores. (W itself is singular: a maximum-entropy optimum has
/// columns summing to zero, which <c>c 1 1ᵀ</c> makes up for.) The head computes softmax(z) to float rounding.
/// </remarks>
internal static class MulticlassHead
{
    private const string DefaultScore = "Score";
    private const string DefaultPredictedLabel = "PredictedLabel";

    /// <summary>The head reading <paramref name="logitsColumn"/>; dispose it to release its ONNX step.</summary>
    public static OwnedTransformer Create(IReadOnlyList<string> classes, string logitsColumn, string scoreColumn, string predictedLabelColumn)
    {
        int k = classes.Count;
        var ml = new MLContext(seed: 0);
        string unmixed = $"{logitsColumn}.head";
        const string label = "resnet.head.label";

        // One row per class: the class's unit vector (scaled) as features, the class name as label, and logits for the
        // schema of the ONNX step. The label key's values are the classes in their order.
        var rows = Enumerable.Range(0, k).Select(c => new HeadRow { Logits = new float[k], Features = UnitRow(k, c), Label = classes[c] });
        var definition = SchemaDefinition.Create(typeof(HeadRow));
        foreach (var (member, name) in new[] { (nameof(HeadRow.Logits), logitsColumn), (nameof(HeadRow.Features), unmixed) })
        {
            var column = definition[member];
            column.ColumnName = name;
            column.ColumnType = new VectorDataViewType(NumberDataViewType.Single, k);
        }
        var data = ml.Data.LoadFromEnumerable(rows, definition);
        data = ml.Transforms.Conversion.MapValueToKey(label, nameof(HeadRow.Label), keyData: LabelColumn.KeyData(classes)).Fit(data).Transform(data);

        var maximumEntropy = ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options
        {
            LabelColumnName = label,
            FeatureColumnName = unmixed,
            L1Regularization = 0,
            L2Regularization = 0.01f,
            NumberOfThreads = 1,
        }).Fit(data);

        VBuffer<float>[]? weights = null;
        maximumEntropy.Model.GetWeights(ref weights, out _);
        float[] bias = [.. maximumEntropy.Model.GetBiases()];
        var unmix = OnnxStep.Fit(ml.Transforms, Unmixing(weights!, bias, logitsColumn, unmixed).ToBytes(), logitsColumn, [k], unmixed, data);

        var steps = new List<ITransformer> { unmix.Transformer, maximumEntropy };
        var view = maximumEntropy.Transform(unmix.Transformer.Transform(data));
        // The trainer names its outputs Score and PredictedLabel; other names are copies.
        var renamed = new List<string>();
        foreach (var (name, trainerName) in new[] { (scoreColumn, DefaultScore), (predictedLabelColumn, DefaultPredictedLabel) }.Where(p => p.Item1 != p.Item2))
        {
            var copy = ml.Transforms.CopyColumns(name, trainerName).Fit(view);
            steps.Add(copy);
            view = copy.Transform(view);
            renamed.Add(trainerName);
        }
        steps.Add(ml.Transforms.DropColumns([unmixed, .. renamed]).Fit(view));
        return new OwnedTransformer(new TransformerChain<ITransformer>([.. steps]), unmix);
    }

    /// <summary>
    /// The ONNX graph x = A⁻¹ (z - b), A = W + c 1 1ᵀ, with c the spread between W's diagonal and off-diagonal means
    /// divided by the class count, so that A is close to a multiple of the identity.
    /// </summary>
    private static OnnxModel Unmixing(IReadOnlyList<VBuffer<float>> weights, IReadOnlyList<float> bias, string input, string output)
    {
        int k = bias.Count;
        var w = new double[k, k];
        for (int c = 0; c < k; c++)
        {
            var row = weights[c].DenseValues().ToArray();
            for (int j = 0; j < k; j++)
                w[c, j] = row[j];
        }
        double diagonal = Enumerable.Range(0, k).Average(i => w[i, i]);
        double offDiagonal = k == 1 ? 0 : (Enumerable.Range(0, k).Sum(i => Enumerable.Range(0, k).Sum(j => w[i, j])) - diagonal * k) / (k * (k - 1.0));
        double shift = (diagonal - offDiagonal) / k;
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
                w[i, j] += shift;
        double[,] inverse = Invert(w);

        // MatMul multiplies the row vector (z - b) by the matrix: its entry [j, i] is inverse[i, j].
        var transposed = new float[k * k];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
                transposed[j * k + i] = (float)inverse[i, j];
        var builder = new OnnxGraphBuilder(input, output);
        string centered = builder.Node("Sub", "centered", [input, builder.Constant("bias", [k], bias.ToArray())]);
        string result = builder.Node("MatMul", "unmixed", [centered, builder.Constant("inverse", [k, k], transposed)]);
        var graph = builder.Build("classifier_head", new OnnxValueInfo(input, OnnxDataType.Float, [k]), result, new OnnxValueInfo(output, OnnxDataType.Float, [k]));
        return new OnnxModel(graph, ResNetOnnx.IrVersion, ResNetOnnx.OpsetVersion, "ResNet.MLNet", "", "logits to the input of ML.NET's maximum-entropy head", []);
    }

    /// <summary>Gauss-Jordan elimination with partial pivoting.</summary>
    private static double[,] Invert(double[,] matrix)
    {
        int n = matrix.GetLength(0);
        var a = (double[,])matrix.Clone();
        var inverse = new double[n, n];
        for (int i = 0; i < n; i++)
            inverse[i, i] = 1;
        double scale = 0;
        foreach (double v in a)
            scale = Math.Max(scale, Math.Abs(v));
        for (int col = 0; col < n; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < n; r++)
                if (Math.Abs(a[r, col]) > Math.Abs(a[pivot, col]))
                    pivot = r;
            if (!(Math.Abs(a[pivot, col]) > 1e-9 * scale))
                throw new InvalidOperationException($"The classifier head's weights for {n} classes are singular; please report this.");
            for (int j = 0; j < n; j++)
            {
                (a[col, j], a[pivot, j]) = (a[pivot, j], a[col, j]);
                (inverse[col, j], inverse[pivot, j]) = (inverse[pivot, j], inverse[col, j]);
            }
            double p = a[col, col];
            for (int j = 0; j < n; j++)
            {
                a[col, j] /= p;
                inverse[col, j] /= p;
            }
            for (int r = 0; r < n; r++)
            {
                double f = a[r, col];
                if (r == col || f == 0)
                    continue;
                for (int j = 0; j < n; j++)
                {
                    a[r, j] -= f * a[col, j];
                    inverse[r, j] -= f * inverse[col, j];
                }
            }
        }
        return inverse;
    }

    private static VBuffer<float> UnitRow(int size, int index) => new(size, 1, [4f], [index]);

    private sealed class HeadRow
    {
        public float[] Logits { get; set; } = [];
        public VBuffer<float> Features { get; set; }
        public string Label { get; set; } = "";
    }
}
