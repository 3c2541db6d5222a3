using Microsoft.ML;
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
}
