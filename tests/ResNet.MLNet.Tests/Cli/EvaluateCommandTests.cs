using System.Text.Json;
using Microsoft.ML;
using ResNet.MLNet.Data;
using ResNet.MLNet.Tests.MLNet;
using ResNet.MLNet.Tests.TestSupport;

namespace ResNet.MLNet.Tests.Cli;

public class EvaluateCommandTests
{
    [Fact]
    public void Evaluates_a_classifier_pipeline_saved_from_the_API()
    {
        // The README's fine-tuning pipeline, saved as is: PredictedLabel stays a key and Label is mapped by the model itself.
        var ml = new MLContext(seed: 2);
        var train = ml.Data.LoadImagesFromFolder(Repo.SampleData, new ImageFolderOptions { Split = "train" });
        var test = ml.Data.LoadImagesFromFolder(Repo.SampleData, new ImageFolderOptions { Split = "test" });
        var model = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.LoadImages("Image", null, "ImagePath"))
            .Append(ml.MulticlassClassification.Trainers.ResNetClassifier(ResNetClassifierTests.Tiny(epochs: 1)))
            .Fit(train);
        double expected = ml.MulticlassClassification.Evaluate(model.Transform(test)).MicroAccuracy;
        using var dir = new TempDirectory();
        string path = dir.File("api-model.zip");
        ml.Model.Save(model, train.Schema, path);
        (model.LastTransformer as IDisposable)?.Dispose();

        var (code, output, error) = CliRunner.Run("evaluate", "--model", path, "--data", Repo.SampleData, "--json");
        Assert.True(code == 0, error);
        Assert.Equal(expected, JsonDocument.Parse(output).RootElement.GetProperty("accuracy").GetDouble(), tolerance: 1e-6);
    }

    [Fact]
    public void A_model_without_a_predicted_class_key_is_refused_naming_what_it_outputs()
    {
        var ml = new MLContext(seed: 2);
        var train = ml.Data.LoadImagesFromFolder(Repo.SampleData, new ImageFolderOptions { Split = "test" });
        var featurizer = ml.Transforms.LoadImages("Image", null, "ImagePath")
            .Append(ml.Transforms.ResNetFeaturizer(new ResNetFeaturizerOptions { InputColumnName = "Image", Architecture = ResNetArchitecture.CifarResNet20, ImageSize = 32 }))
            .Fit(train);
        using var dir = new TempDirectory();
        string path = dir.File("featurizer.zip");
        ml.Model.Save(featurizer, train.Schema, path);
        (featurizer.LastTransformer as IDisposable)?.Dispose();

        var (code, _, error) = CliRunner.Run("evaluate", "--model", path, "--data", Repo.SampleData);
        Assert.Equal(1, code);
        Assert.Contains("featurizer.zip' outputs no predicted class key", error);
        Assert.Contains("Features (Vector<Single, 64>)", error);
    }
}
