using Microsoft.ML;
using ResNet.MLNet.Data;
using ResNet.MLNet.Tests.TestSupport;
using Xunit.Abstractions;

namespace ResNet.MLNet.Tests.MLNet;

/// <summary>
/// The featurizer with <c>resnet18.mlnet_in1k</c> (ML.NET's ImageNet ResNet-18, imported from its ONNX graph into the
/// toolkit's torchvision-layout network) against ML.NET's own <c>DnnFeaturizeImage</c> on the same images.
/// </summary>
public class PretrainedFeaturizerTests(ITestOutputHelper output)
{
    [Fact]
    public void MLNet_ResNet18_weights_give_DnnFeaturizeImages_features()
    {
        var ml = new MLContext(seed: 1);
        var rows = ImageFolder.List(Repo.SampleData, new ImageFolderOptions { Split = "test" }).Where((_, i) => i % 2 == 0).ToList();
        var images = ml.Data.LoadImageRows(rows);

        // ML.NET's documented DnnFeaturizeImage pipeline: resize to 224 (IsoCrop), pixels 0-255, its ResNet-18.
        var reference = ml.Transforms.LoadImages("Image", null, "ImagePath")
            .Append(ml.Transforms.ResizeImages("Resized", 224, 224, "Image"))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Resized"))
            .Append(ml.Transforms.DnnFeaturizeImage("Reference", m => m.ModelSelector.ResNet18(ml, m.OutputColumn, m.InputColumn), "Pixels"))
            .Fit(images);
        var expected = ResNetFeaturizerTests.Features(reference.Transform(images), "Reference");

        var featurizer = ml.Transforms.LoadImages("Image", null, "ImagePath")
            .Append(ml.Transforms.ResNetFeaturizer("Features", "Image", weightsPath: "resnet18.mlnet_in1k")).Fit(images);
        using var transformer = featurizer.LastTransformer;
        var actual = ResNetFeaturizerTests.Features(featurizer.Transform(images), "Features");

        Assert.True(transformer.IsPretrained);
        Assert.Equal("mlnet_resnet18", transformer.LoadingReport!.Model);
        Assert.Equal("resnet18.mlnet_in1k", transformer.Weights!.Name);
        Assert.Equal(512, transformer.OutputSize);
        Assert.Equal(expected.Count, actual.Count);
        var cosines = expected.Zip(actual, global::ResNet.MLNet.Cli.Commands.BenchPretrainedCommand.Cosine).ToList();
        output.WriteLine($"{cosines.Count} images: cosine min {cosines.Min():F8}, mean {cosines.Average():F8}, max abs difference {expected.Zip(actual).Max(p => p.First.Zip(p.Second).Max(v => Math.Abs(v.First - v.Second))):G3}");
        Assert.True(cosines.Min() >= 0.999, $"minimum cosine similarity {cosines.Min():F6}");

        // The one preprocessing stack: ImagePreprocessing with the featurizer's Input feeds the network the pixels ML.NET's
        // transforms fed it, so the same weights outside ML.NET (predict --weights, interpret) give the same features.
        Assert.Equal(ImageInterpolation.MLNet, transformer.Input.Interpolation);
        var setup = NetworkSetup.Create(null, null, "resnet18.mlnet_in1k", null, null, null, seed: 0);
        using (var model = setup.Model)
        using (TorchSharp.torch.no_grad())
        {
            model.eval();
            for (int i = 0; i < rows.Count; i += 10)
            {
                using var scope = TorchSharp.torch.NewDisposeScope();
                var pixels = ImagePreprocessing.Load(rows[i].ImagePath, transformer.Input);
                var x = pixels.ToBatch();
                AssertClose.Relative(actual[i], model.ForwardEmbedding(x).data<float>().ToArray(), 1e-4);
            }
        }

        // Saved and reloaded, the model is ML.NET's transforms and an ONNX graph carrying the same mean image.
        string path = Path.Combine(Path.GetTempPath(), $"mlnet-resnet18-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(featurizer, images.Schema, path);
            var reloaded = ResNetFeaturizerTests.Features(ml.Model.Load(path, out _).Transform(images), "Features");
            Assert.All(reloaded.Zip(actual), pair => AssertClose.Relative(pair.Second, pair.First, 1e-4));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
