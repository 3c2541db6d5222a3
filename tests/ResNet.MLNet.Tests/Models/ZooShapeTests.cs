using ResNet.MLNet.Models;
using ResNet.MLNet.Weights;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Models;

public class ZooShapeTests
{
    [Theory]
    [InlineData("resnet18", 11_689_512, 122)]
    [InlineData("resnet34", 21_797_672, 218)]
    [InlineData("resnet50", 25_557_032, 320)]
    [InlineData("resnet101", 44_549_160, 626)]
    [InlineData("resnet152", 60_192_808, 932)]
    [InlineData("wide_resnet50_2", 68_883_240, 320)]
    [InlineData("resnext50_32x4d", 25_028_904, 320)]
    [InlineData("resnext101_32x8d", 88_791_336, 626)]
    [InlineData("resnext101_64x4d", 83_455_272, 626)]
    [InlineData("wide_resnet101_2", 126_886_696, 626)]
    [InlineData("mlnet_resnet18", 15_897_152 + 513_000, 134)]
    public void Should_have_torchvision_parameter_counts(string arch, long parameters, int stateDictEntries)
    {
        using var model = ResNetModels.Build(arch);
        Assert.Equal(parameters, model.parameters().Sum(p => p.numel()));
        var keys = model.OrderedStateDict().Select(e => e.Key).ToList();
        Assert.Equal(stateDictEntries, keys.Count);
        Assert.Equal("conv1.weight", keys[0]);
        Assert.Equal(["fc.weight", "fc.bias"], keys[^2..]);
    }

    [Fact]
    public void Cifar_resnet20_has_the_papers_size_and_no_shortcut_parameters()
    {
        using var model = ResNetModels.CifarResNet(20);
        Assert.Equal(269_722, model.parameters().Sum(p => p.numel())); // the paper's "0.27M"
        Assert.DoesNotContain(model.OrderedStateDict(), e => e.Key.Contains("downsample"));
        using var optionB = ResNetModels.CifarResNet(20, shortcut: ShortcutKind.Projection);
        Assert.Contains(optionB.OrderedStateDict(), e => e.Key == "layer2.0.downsample.0.weight");
    }

    [Fact]
    public void Plain_nets_equal_their_residual_twins_in_parameters_when_shortcuts_are_identity()
    {
        using var plain = ResNetModels.Build(ResNetArchitecture.CifarPlain20);
        using var residual = ResNetModels.Build(ResNetArchitecture.CifarResNet20);
        Assert.Equal(residual.parameters().Sum(p => p.numel()), plain.parameters().Sum(p => p.numel()));
        using var plain34 = ResNetModels.Build(ResNetArchitecture.Plain34);
        Assert.DoesNotContain(plain34.OrderedStateDict(), e => e.Key.Contains("downsample"));
    }

    [Theory]
    [InlineData("resnet18", 1.814)]
    [InlineData("resnet34", 3.664)]
    [InlineData("resnet50", 4.089)]
    [InlineData("resnet101", 7.801)]
    [InlineData("resnet152", 11.514)]
    public void Should_count_macs_within_one_percent_of_torchvision(string arch, double publishedGMacs)
    {
        using var model = ResNetModels.Build(arch);
        var summary = ModelSummary.Of(model, 224);
        double gmacs = summary.Macs / 1e9;
        Assert.InRange(gmacs, publishedGMacs * 0.99, publishedGMacs * 1.01);
        Assert.Equal(["stem", "layer1", "layer2", "layer3", "layer4", "head"], summary.Stages.Select(s => s.Name));
        Assert.Equal(model.parameters().Sum(p => p.numel()), summary.Stages.Sum(s => s.Parameters));
        Assert.Equal([model.NumFeatures, 7, 7], summary.Stages[4].OutputShape);
        Assert.Equal([1000L], summary.Stages[^1].OutputShape);
    }

    [Theory]
    [InlineData(ResNetArchitecture.ResNet18, 512)]
    [InlineData(ResNetArchitecture.ResNet50, 2048)]
    [InlineData(ResNetArchitecture.SeResNet50, 2048)]
    [InlineData(ResNetArchitecture.PreActResNet18, 512)]
    [InlineData(ResNetArchitecture.PreActResNet50, 2048)]
    [InlineData(ResNetArchitecture.Plain18, 512)]
    [InlineData(ResNetArchitecture.CifarResNet20, 64)]
    [InlineData(ResNetArchitecture.CifarPlain20, 64)]
    public void Should_expose_stages_embedding_and_logits(ResNetArchitecture arch, int features)
    {
        using var model = ResNetModels.Build(arch, numClasses: 7);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = randn(2, 3, 64, 64);

        var stages = model.ForwardStages(x);
        Assert.Equal(model.NumStages, stages.Count);
        Assert.Equal(features, stages[^1].shape[1]);
        Assert.Equal([2L, features], model.ForwardEmbedding(x).shape);
        var logits = model.forward(x);
        Assert.Equal([2L, 7], logits.shape);
        Assert.True(logits.isfinite().all().item<bool>());
        // The seam is exact: head(features(x)) is forward(x).
        Assert.True(model.ForwardHead(model.ForwardFeatures(x)).allclose(logits));
    }

    [Fact]
    public void ResetClassifier_replaces_the_head_and_zero_removes_it()
    {
        using var model = ResNetModels.ResNet18();
        model.ResetClassifier(5);
        Assert.Equal(5, model.NumClasses);
        Assert.Equal([5L, 512], model.OrderedStateDict().Single(e => e.Key == "fc.weight").Value.shape);
        model.ResetClassifier(0);
        Assert.DoesNotContain(model.OrderedStateDict(), e => e.Key.StartsWith("fc."));
        using var noGrad = no_grad();
        model.eval();
        using var y = model.forward(randn(1, 3, 32, 32));
        Assert.Equal([1L, 512], y.shape);
    }

    [Fact]
    public void Grayscale_models_take_one_channel()
    {
        using var model = ResNetModels.ResNet18(numClasses: 10, inChannels: 1);
        Assert.Equal([64L, 1, 7, 7], model.OrderedStateDict()[0].Value.shape);
        using var noGrad = no_grad();
        model.eval();
        using var y = model.forward(randn(2, 1, 32, 32));
        Assert.Equal([2L, 10], y.shape);
    }

    [Fact]
    public void Squeeze_excitation_uses_timm_names_and_size()
    {
        using var model = ResNetModels.Build(ResNetArchitecture.SeResNet50);
        var keys = model.OrderedStateDict().Select(e => e.Key).ToHashSet();
        Assert.Contains("layer1.0.se.fc1.weight", keys);
        Assert.Contains("layer4.2.se.fc2.bias", keys);
        Assert.Equal(28_088_024, model.parameters().Sum(p => p.numel())); // timm seresnet50
    }

    [Fact]
    public void Zero_init_residual_zeroes_the_last_norm_of_each_branch()
    {
        using var model = new ResNetModel(ResNetModels.Options(ResNetArchitecture.ResNet50) with { ZeroInitResidual = true });
        var sd = model.OrderedStateDict().ToDictionary(e => e.Key, e => e.Value);
        Assert.Equal(0f, sd["layer1.0.bn3.weight"].abs().sum().item<float>());
        Assert.Equal(0f, sd["layer4.2.bn3.weight"].abs().sum().item<float>());
        Assert.NotEqual(0f, sd["layer1.0.bn2.weight"].abs().sum().item<float>());
    }

    [Fact]
    public void Same_seed_gives_the_same_weights()
    {
        var options = ResNetModels.Options(ResNetArchitecture.CifarResNet20);
        using var a = ResNetModels.Build(options, seed: 42);
        using var b = ResNetModels.Build(options, seed: 42);
        using var c = ResNetModels.Build(options, seed: 43);
        var pa = a.OrderedStateDict();
        var pb = b.OrderedStateDict();
        Assert.All(pa.Zip(pb), pair => Assert.True(pair.First.Value.equal(pair.Second.Value).all().item<bool>(), pair.First.Key));
        Assert.False(pa[0].Value.equal(c.OrderedStateDict()[0].Value).all().item<bool>());
    }

    [Fact]
    public void Initialization_follows_torchvision()
    {
        using var model = ResNetModels.Build(ResNetModels.Options(ResNetArchitecture.ResNet50), seed: 1);
        var sd = model.OrderedStateDict().ToDictionary(e => e.Key, e => e.Value);
        // kaiming_normal_(mode="fan_out", nonlinearity="relu"): std = sqrt(2 / (out_channels x k x k)).
        var w = sd["layer3.0.conv2.weight"]; // 256 x 256 x 3 x 3
        double expectedStd = Math.Sqrt(2.0 / (256 * 9));
        Assert.InRange(w.std().item<float>(), expectedStd * 0.97, expectedStd * 1.03);
        Assert.Equal(1f, sd["bn1.weight"].mean().item<float>());
        Assert.Equal(0f, sd["bn1.bias"].abs().sum().item<float>());
    }
}
