using Microsoft.ML;
using Microsoft.ML.Data;
using ResNet.MLNet.Tests.TestSupport;

namespace ResNet.MLNet.Tests.MLNet;

/// <summary>
/// The classifier's head, built from ML.NET's public parts: softmax of the logits as Score, argmax as PredictedLabel,
/// the class names on both, and the same after a save and a plain load.
/// </summary>
public class MulticlassHeadTests
{
    [Theory]
    [InlineData(2, "Score", "PredictedLabel")]
    [InlineData(10, "Score", "PredictedLabel")]
    [InlineData(37, "Probabilities", "Guess")]
    public void Scores_are_the_softmax_of_the_logits_and_the_prediction_their_argmax(int k, string scoreColumn, string predictedColumn)
    {
        string[] classes = [.. Enumerable.Range(0, k).Select(c => $"class {c:D2}")];
        var random = new Random(k);
        // Logits as fine-tuned heads give them: spread over tens, some nearly tied.
        var logits = Enumerable.Range(0, 40).Select(_ => Enumerable.Range(0, k).Select(_ => (float)(random.NextDouble() * 30 - 15)).ToArray()).ToList();
        logits[0][0] = logits[0][1] + 1e-3f;

        var ml = new MLContext(seed: 1);
        var definition = SchemaDefinition.Create(typeof(LogitsRow));
        definition[nameof(LogitsRow.Logits)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, k);
        var data = ml.Data.LoadFromEnumerable(logits.Select(l => new LogitsRow { Logits = l }), definition);

        using var owned = MulticlassHead.Create(classes, nameof(LogitsRow.Logits), scoreColumn, predictedColumn);
        var head = owned.Transformer;
        var scored = head.Transform(data);
        AssertHead(scored, logits, classes, scoreColumn, predictedColumn);
        Assert.DoesNotContain(scored.Schema, c => c.Name.EndsWith(".head", StringComparison.Ordinal));
        if (scoreColumn != "Score")
            Assert.DoesNotContain(scored.Schema, c => c.Name is "Score" or "PredictedLabel");

        using var dir = new TempDirectory();
        ml.Model.Save(head, data.Schema, dir.File("head.zip"));
        var reloaded = ml.Model.Load(dir.File("head.zip"), out _);
        AssertHead(reloaded.Transform(data), logits, classes, scoreColumn, predictedColumn);
        (reloaded as IDisposable)?.Dispose();
    }

    private static void AssertHead(IDataView scored, List<float[]> logits, string[] classes, string scoreColumn, string predictedColumn)
    {
        VBuffer<ReadOnlyMemory<char>> slotNames = default, keyValues = default;
        scored.Schema[scoreColumn].GetSlotNames(ref slotNames);
        scored.Schema[predictedColumn].GetKeyValues(ref keyValues);
        Assert.Equal(classes, slotNames.DenseValues().Select(s => s.ToString()));
        Assert.Equal(classes, keyValues.DenseValues().Select(s => s.ToString()));

        var scores = scored.GetColumn<float[]>(scoreColumn).ToList();
        var predicted = scored.GetColumn<uint>(predictedColumn).ToList();
        for (int row = 0; row < logits.Count; row++)
        {
            double max = logits[row].Max();
            double[] exp = [.. logits[row].Select(z => Math.Exp(z - max))];
            double sum = exp.Sum();
            for (int c = 0; c < classes.Length; c++)
                Assert.Equal(exp[c] / sum, scores[row][c], tolerance: 1e-5);
            int argmax = Array.IndexOf(logits[row], logits[row].Max());
            Assert.Equal((uint)argmax + 1, predicted[row]);
        }
    }

    private sealed class LogitsRow
    {
        public float[] Logits { get; set; } = [];
    }
}
