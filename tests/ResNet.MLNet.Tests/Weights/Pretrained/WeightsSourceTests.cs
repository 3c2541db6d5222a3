using ResNet.MLNet.Models;
using ResNet.MLNet.Tests.TestSupport;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Tests.Weights.Pretrained;

public class WeightsSourceTests
{
    /// <summary>A torchvision-layout checkpoint saved under its torchvision file name in a cache folder, as torch hub leaves it.</summary>
    internal static string PlaceInCache(string cache, string weightsName, int seed = 1)
    {
        var entry = WeightsRegistry.Get(weightsName);
        Directory.CreateDirectory(cache);
        using var model = ResNetModels.Build(ResNetModels.Options(entry.Architecture) with { NumClasses = entry.NumClasses }, seed);
        string path = Path.Combine(cache, entry.FileName);
        WeightsFile.Write(path, NamedTensor.FromModel(model));
        return path;
    }

    [Fact]
    public void A_registry_name_finds_torch_hubs_file_and_brings_preprocessing_classes_and_architecture()
    {
        using var dir = new TempDirectory();
        string placed = PlaceInCache(dir.Path, "resnet18.tv_in1k");

        var source = WeightsSource.Resolve("ResNet18_Weights.IMAGENET1K_V1", new WeightsResolveOptions { CacheDirectory = dir.Path });

        Assert.Equal(placed, source.Path);
        Assert.Equal("resnet18.tv_in1k", source.DisplayName);
        Assert.Equal("resnet18", source.Architecture);
        Assert.Equal(256, source.Input!.ResizeSize);
        Assert.Equal(1000, source.Input.ClassNames!.Count);
        Assert.Equal(1000, source.Content.NumClasses);
    }

    [Fact]
    public void A_file_path_wins_and_brings_what_its_metadata_records()
    {
        using var dir = new TempDirectory();
        using var model = ResNetModels.CifarResNet(20, numClasses: 3);
        var metadata = new WeightsMetadata
        {
            Architecture = "cifar_resnet20", NumClasses = 3,
            Input = new ImageModelInput { ImageSize = 32, Mean = [0.4f, 0.4f, 0.4f], Std = [0.2f, 0.2f, 0.2f], ClassNames = ["a", "b", "c"] },
        };
        WeightsFile.Write(dir.File("w.safetensors"), NamedTensor.FromModel(model), metadata.ToDictionary());

        var source = WeightsSource.Resolve(dir.File("w.safetensors"));

        Assert.Null(source.Pretrained);
        Assert.Equal("cifar_resnet20", source.Architecture);
        Assert.Equal(["a", "b", "c"], source.Input!.ClassNames);
        Assert.Equal(32, source.Input.ImageSize);
    }

    [Fact]
    public void A_file_without_metadata_brings_the_architecture_its_keys_and_shapes_match()
    {
        using var dir = new TempDirectory();
        using var model = ResNetModels.ResNet18(numClasses: 3);
        // A Lightning checkpoint's keys (model.) from elsewhere, as torch.save writes them: no metadata.
        WeightsFile.Write(dir.File("last.pth"), NamedTensor.FromModel(model).Select(t => t.WithName("model." + t.Name)).ToList());

        var source = WeightsSource.Resolve(dir.File("last.pth"));
        Assert.Null(source.Metadata.Architecture);
        Assert.Equal("resnet18", source.Architecture);

        // So an estimator given only these weights builds that network (it used to build its default, ResNet-50, and fail to load).
        var setup = NetworkSetup.Create(null, null, dir.File("last.pth"), null, null, numClasses: null, seed: 0, ResNetModels.Options(ResNetArchitecture.ResNet50));
        using var built = setup.Model;
        Assert.Equal("resnet18", built.Options.Name);
        Assert.Equal(3, built.NumClasses);
        Assert.True(setup.Report!.IsComplete, setup.Report.ToString());
    }

    [Fact]
    public void Weights_that_fit_two_architectures_exactly_ask_for_one_by_name()
    {
        // CIFAR ResNet-20's shortcuts hold no weights, so its checkpoint fits plain-20 as well.
        string file = WeightsFixtures.PathOf("cifar_resnet20.pth");
        var source = WeightsSource.Resolve(file);
        Assert.Equal(["cifar_resnet20", "cifar_plain20"], source.ExactMatches);
        Assert.Null(source.Architecture);

        var e = Assert.Throws<ArgumentException>(() => NetworkSetup.Create(null, null, file, null, null, null, seed: 0, ResNetModels.Options(ResNetArchitecture.ResNet50)));
        Assert.Contains("fit cifar_resnet20 and cifar_plain20 exactly: name the architecture", e.Message);
        var named = NetworkSetup.Create(ResNetModels.Options(ResNetArchitecture.CifarPlain20), null, file, null, null, null, seed: 0);
        using var plain = named.Model;
        Assert.True(named.Report!.IsComplete, named.Report.ToString());
    }

    [Fact]
    public void A_mistyped_name_lists_close_names_and_a_missing_file_is_named()
    {
        var name = Assert.Throws<ArgumentException>(() => WeightsSource.Resolve("resnet18.tv_in1"));
        Assert.Contains("resnet18.tv_in1k", name.Message);
        var file = Assert.Throws<FileNotFoundException>(() => WeightsSource.Resolve("/nonexistent/weights.pth"));
        Assert.Contains("/nonexistent/weights.pth", file.Message);
    }

    [Fact]
    public void Weights_of_another_architecture_than_the_one_asked_fail_naming_both()
    {
        using var dir = new TempDirectory();
        PlaceInCache(dir.Path, "resnet18.tv_in1k");
        var e = Assert.Throws<ArgumentException>(() => NetworkSetup.Create(ResNetModels.Options(ResNetArchitecture.ResNet34), null, "resnet18.tv_in1k",
            null, null, null, seed: 0, resolve: new WeightsResolveOptions { CacheDirectory = dir.Path }));
        Assert.Contains("resnet18.tv_in1k", e.Message);
        Assert.Contains("resnet34", e.Message);
    }

    [Fact]
    public void A_setup_from_a_name_builds_the_weights_architecture_with_their_head_and_input()
    {
        using var dir = new TempDirectory();
        PlaceInCache(dir.Path, "resnet18.tv_in1k", seed: 7);
        using var expected = ResNetModels.Build(ResNetModels.Options("resnet18"), seed: 7);

        var setup = NetworkSetup.Create(null, null, "resnet18.tv_in1k", null, imageSize: 112, numClasses: null, seed: 0,
            resolve: new WeightsResolveOptions { CacheDirectory = dir.Path });
        using var model = setup.Model;

        Assert.Equal("resnet18", model.Options.Name);
        Assert.Equal(1000, model.NumClasses);
        Assert.Equal((112, 128), (setup.Input.ImageSize, setup.Input.ResizeSize)); // 256/224 kept at 112
        Assert.True(setup.Report!.IsComplete);
        var actual = model.OrderedStateDict().ToDictionary(e => e.Key, e => e.Value);
        foreach (var (key, value) in expected.OrderedStateDict())
            Assert.True(value.eq(actual[key]).all().item<bool>(), key);
    }
}
