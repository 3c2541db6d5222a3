using ResNet.MLNet.Models;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Tests.Weights.Pretrained;

public class WeightsRegistryTests
{
    [Fact]
    public void Should_list_every_torchvision_ResNet_weight_and_MLNets_ResNet18()
    {
        string[] expected =
        [
            "resnet18.tv_in1k", "resnet34.tv_in1k", "resnet50.tv_in1k", "resnet50.tv2_in1k", "resnet101.tv_in1k", "resnet101.tv2_in1k",
            "resnet152.tv_in1k", "resnet152.tv2_in1k", "wide_resnet50_2.tv_in1k", "wide_resnet50_2.tv2_in1k", "wide_resnet101_2.tv_in1k",
            "wide_resnet101_2.tv2_in1k", "resnext50_32x4d.tv_in1k", "resnext50_32x4d.tv2_in1k", "resnext101_32x8d.tv_in1k",
            "resnext101_32x8d.tv2_in1k", "resnext101_64x4d.tv2_in1k", "resnet18.mlnet_in1k",
        ];
        Assert.Equal(expected.Order(), WeightsRegistry.All.Select(w => w.Name).Order());
    }

    [Fact]
    public void Torchvision_entries_have_their_real_url_hash_prefix_metrics_preprocessing_and_classes()
    {
        foreach (var w in WeightsRegistry.All.Where(w => w.Source == PretrainedSource.Download))
        {
            Assert.Equal($"https://download.pytorch.org/models/{w.FileName}", w.Url!.ToString());
            Assert.Matches($"^{w.Architecture}-[0-9a-f]{{8}}\\.pth$", w.FileName);
            Assert.Equal(w.Architecture, ResNetModels.Options(w.Architecture).Name); // every one builds in the zoo
            Assert.Equal(1000, w.NumClasses);
            Assert.InRange(w.Top1!.Value, 69, 84);
            Assert.True(w.Top5 > w.Top1, w.Name);
            Assert.Equal(224, w.Input.ImageSize);
            Assert.Equal(w.Name.EndsWith(".tv2_in1k") ? 232 : 256, w.Input.ResizeSize);
            Assert.Equal(ImageModelInput.ImageNetMean, w.Input.Mean);
            Assert.Equal(ImageModelInput.ImageNetStd, w.Input.Std);
            w.Input.Validate();
        }
        var resnet50 = WeightsRegistry.Get("resnet50.tv2_in1k");
        Assert.Equal("resnet50-11ad3fa6.pth", resnet50.FileName);
        Assert.Equal(80.858, resnet50.Top1!.Value, 1e-9);
        Assert.Equal("tench", resnet50.Input.ClassNames![0]);
        Assert.Equal("toilet tissue", resnet50.Input.ClassNames[999]);
    }

    [Theory]
    [InlineData("ResNet50_Weights.IMAGENET1K_V2", "resnet50.tv2_in1k")]
    [InlineData("resnet50_weights.imagenet1k_v1", "resnet50.tv_in1k")]
    [InlineData("resnet50.default", "resnet50.tv2_in1k")]
    [InlineData("ResNet50_Weights.DEFAULT", "resnet50.tv2_in1k")]
    [InlineData("resnet18.default", "resnet18.tv_in1k")]
    [InlineData("ResNeXt101_64X4D_Weights.IMAGENET1K_V1", "resnext101_64x4d.tv2_in1k")]
    [InlineData("RESNET18.MLNET_IN1K", "resnet18.mlnet_in1k")]
    [InlineData(" resnet34.tv_in1k ", "resnet34.tv_in1k")]
    public void Should_accept_torchvision_names_defaults_and_any_case(string name, string expected) =>
        Assert.Equal(expected, WeightsRegistry.Get(name).Name);

    [Fact]
    public void Unknown_name_lists_the_closest_names()
    {
        var e = Assert.Throws<ArgumentException>(() => WeightsRegistry.Get("resnet50.tv3_in1k"));
        Assert.Contains("resnet50.tv3_in1k", e.Message);
        Assert.Contains("resnet50.tv2_in1k", e.Message);
        Assert.Contains("weights list", e.Message);
    }

    [Fact]
    public void MLNet_ResNet18_is_a_headless_feature_extractor_with_MLNets_preprocessing()
    {
        var w = WeightsRegistry.Get("resnet18.mlnet_in1k");
        Assert.Equal(PretrainedSource.MLNetPackage, w.Source);
        Assert.Equal("mlnet_resnet18", w.Architecture); // ML.NET's "ResNet-18" has three blocks in its last stage
        Assert.Equal([2, 2, 2, 3], ResNetModels.Options(w.Architecture).Layers);
        Assert.Equal(0, w.NumClasses);
        Assert.Equal(ImageInterpolation.MLNet, w.Input.Interpolation);
        Assert.Null(w.Input.ResizeSize);
        // ML.NET feeds 0–255 pixels minus a mean near the Caffe means (BGR 103.06, 115.90, 123.15): RGB m/255, std 1/255.
        Assert.Equal(123.15163 / 255, w.Input.Mean[0], 1e-6);
        Assert.Equal(103.06262 / 255, w.Input.Mean[2], 1e-6);
        Assert.All(w.Input.Std, s => Assert.Equal(1.0 / 255, s, 1e-9));
        Assert.Equal(64, w.Sha256!.Length);
    }

    [Theory]
    [InlineData("resnet50.tv2_in1k", true)]
    [InlineData("resnet50.tv3_in1k", true)]
    [InlineData("weights.pth", false)]
    [InlineData("out/run/weights", false)]
    [InlineData("model.safetensors", false)]
    public void Should_tell_names_from_paths(string value, bool isName) =>
        Assert.Equal(isName, WeightsRegistry.LooksLikeName(value));
}
