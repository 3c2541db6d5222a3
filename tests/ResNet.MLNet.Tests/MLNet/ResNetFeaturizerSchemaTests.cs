using Microsoft.ML;
using Microsoft.ML.Data;
using ResNet.MLNet.Data;
using ResNet.MLNet.Tests.TestSupport;

namespace ResNet.MLNet.Tests.MLNet;

public class ResNetFeaturizerSchemaTests
{
    [Fact]
    public void Fits_after_a_key_column_as_in_the_usual_MapValueToKey_first_pipeline()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadImagesFromFolder(Repo.SampleData, new ImageFolderOptions { Split = "test" });
        var pipeline = ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label")
            .Append(ml.Transforms.LoadImages("Image", null, "ImagePath"))
            .Append(ml.Transforms.ResNetFeaturizer(ResNetFeaturizerTests.Small()));
        var model = pipeline.Fit(data);
        Assert.Equal(512, model.LastTransformer.OutputSize);
        model.LastTransformer.Dispose();
    }

    [Fact]
    public void GetOutputSchema_adds_the_columns_ML_NET_estimators_add_and_names_a_missing_input()
    {
        var ml = new MLContext(seed: 1);
        // A shape with ImagePath and Label text columns, as a text loader would give, then keys and images.
        var files = ml.Transforms.CustomMapping<NoColumns, ImageFile>((_, _) => { }, contractName: null).GetOutputSchema(new SchemaShape([]));
        var images = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.LoadImages("Image", null, "ImagePath")).GetOutputSchema(files);

        var featurized = ml.Transforms.ResNetFeaturizer(ResNetFeaturizerTests.Small()).GetOutputSchema(images);
        var classified = ml.MulticlassClassification.Trainers.ResNetClassifier(ResNetClassifierTests.Tiny()).GetOutputSchema(images);
        var reference = ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy("Label", "Features").GetOutputSchema(featurized);

        Assert.Equal(images.Select(c => c.Name).Append("Features"), featurized.Select(c => c.Name));
        Assert.Equal((SchemaShape.Column.VectorKind.Vector, (DataViewType)NumberDataViewType.Single, false), Shape(featurized, "Features"));
        foreach (string column in new[] { "Score", "PredictedLabel" })
            Assert.Equal(Shape(reference, column), Shape(classified, column));
        Assert.Equal(images.Select(c => c.Name), classified.Select(c => c.Name).Where(n => n is not ("Score" or "PredictedLabel")));

        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ResNetFeaturizer(ResNetFeaturizerTests.Small()).GetOutputSchema(files));
        Assert.Contains("Schema mismatch for input column 'Image': the column is missing.", missing.Message);
        var withoutLabel = new SchemaShape(images.Where(c => c.Name != "Label"));
        var label = Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.ResNetClassifier(ResNetClassifierTests.Tiny()).GetOutputSchema(withoutLabel));
        Assert.Contains("Schema mismatch for input column 'Label': the label column is missing.", label.Message);
    }

    private static (SchemaShape.Column.VectorKind, DataViewType, bool) Shape(SchemaShape shape, string name)
    {
        var column = shape.Single(c => c.Name == name);
        return (column.Kind, column.ItemType, column.IsKey);
    }

    private sealed class NoColumns { }

    private sealed class ImageFile
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
    }
}
