using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using ResNet.MLNet.Data;
using ResNet.MLNet.Tests.TestSupport;

namespace ResNet.MLNet.Tests.Cli;

/// <summary>
/// Two saved ML.NET classifiers over ResNet features of a few sample images (3 classes): one whose PredictedLabel is
/// mapped back to text, one that keeps the key. Built once for the tests of <c>predict --model</c>.
/// </summary>
public sealed class SavedClassifiers : IDisposable
{
    public static readonly string[] Classes = ["bag", "sneaker", "trouser"];

    private readonly TempDirectory dir = new();

    public SavedClassifiers()
    {
        var ml = new MLContext(seed: 1);
        var rows = ImageFolder.List(Repo.SampleData, new ImageFolderOptions { Split = "train" })
            .Where(e => Classes.Contains(e.Label)).GroupBy(e => e.Label).SelectMany(g => g.Take(6))
            .Select(e => new ImageRow { ImagePath = e.ImagePath, Label = e.Label }).ToList();
        var data = ml.Data.LoadFromEnumerable(rows);
        var pipeline = ml.Transforms.LoadImages("Image", null, "ImagePath")
            .Append(ml.Transforms.ResNetFeaturizer(new ResNetFeaturizerOptions
            {
                InputColumnName = "Image", Architecture = ResNetArchitecture.CifarResNet20, ImageSize = 32, BatchSize = 8,
            }))
            .Append(ml.Transforms.Conversion.MapValueToKey("Label"))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy("Label", "Features"))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        var model = pipeline.Fit(data);
        ml.Model.Save(model, data.Schema, TextLabels);
        ml.Model.Save(new TransformerChain<ITransformer>([.. model.Take(4)]), data.Schema, KeyLabels);
        foreach (var t in model)
            (t as IDisposable)?.Dispose();
        Sample = rows[0].ImagePath;
    }

    /// <summary>PredictedLabel mapped back to the class name (text).</summary>
    public string TextLabels => dir.File("model.zip");

    /// <summary>PredictedLabel as a key whose values are the class names.</summary>
    public string KeyLabels => dir.File("model-key.zip");

    /// <summary>An image of the training data.</summary>
    public string Sample { get; }

    public string File(string name) => dir.File(name);

    public void Dispose() => dir.Dispose();

    private sealed class ImageRow
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
    }
}

/// <summary><c>predict --model model.zip</c>: PredictedLabel and the top K of Score with class names, and clean failures.</summary>
public class PredictSavedModelTests(SavedClassifiers models) : IClassFixture<SavedClassifiers>
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Json_gives_the_predicted_label_every_score_and_the_named_top_K(bool keyLabels)
    {
        var (code, stdout, error) = CliRunner.Run("predict", "--model", keyLabels ? models.KeyLabels : models.TextLabels, "--image", models.Sample, "--top", "2", "--json");

        Assert.True(code == 0, error);
        var root = JsonDocument.Parse(stdout).RootElement;
        string predicted = root.GetProperty("predicted_label").GetString()!;
        Assert.Contains(predicted, SavedClassifiers.Classes);
        var scores = PredictCommandTests.Floats(root.GetProperty("scores"));
        Assert.Equal(3, scores.Length);
        Assert.Equal(1.0, scores.Sum(), 1e-5); // maximum entropy scores are probabilities
        var top = root.GetProperty("top").EnumerateArray().ToList();
        Assert.Equal(2, top.Count);
        int best = Array.IndexOf(scores, scores.Max());
        Assert.Equal(best, top[0].GetProperty("index").GetInt32());
        Assert.Equal(SavedClassifiers.Classes[best], top[0].GetProperty("label").GetString()); // keys sort in order of appearance: bag, sneaker, trouser
        Assert.Equal(predicted, top[0].GetProperty("label").GetString());
        Assert.Equal(scores[best], top[0].GetProperty("score").GetSingle());
    }

    [Fact]
    public void Table_shows_the_predicted_label_and_the_scores()
    {
        var (code, stdout, error) = CliRunner.Run("predict", "--model", models.TextLabels, "--image", models.Sample);

        Assert.True(code == 0, error);
        Assert.Contains("PredictedLabel:", stdout);
        Assert.Contains("score", stdout);
        foreach (string name in SavedClassifiers.Classes) // --top 5 lists all three classes
            Assert.Contains(name, stdout);
    }

    [Fact]
    public void Bad_input_fails_with_one_clear_message_and_exit_code_1()
    {
        System.IO.File.WriteAllText(models.File("not-a-model.zip"), "not a zip");
        System.IO.File.WriteAllText(models.File("corrupt.png"), "not a png");
        (string[] Args, string Expected)[] cases =
        [
            (["--model", models.File("missing.zip"), "--image", models.Sample], "missing.zip"),
            (["--model", models.File("not-a-model.zip"), "--image", models.Sample], "not-a-model.zip"),
            (["--model", models.TextLabels, "--image", models.File("missing.png")], "missing.png"),
            (["--model", models.TextLabels, "--image", models.File("corrupt.png")], "corrupt.png"),
            (["--model", models.TextLabels, "--image", models.Sample, "--crop", "32"], "--crop"),
            (["--model", models.TextLabels, "--image", models.Sample, "--top", "0"], "--top"),
        ];
        foreach (var (args, expected) in cases)
            CliRunner.AssertFails(CliRunner.Run(["predict", .. args]), expected);
    }
}
