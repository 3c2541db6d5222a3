using ResNet.MLNet.Models;
using ResNet.MLNet.Weights;
using static ResNet.MLNet.Tests.Weights.WeightsFixtures;

namespace ResNet.MLNet.Tests.Weights;

public class ArchitectureDetectorTests
{
    [Fact]
    public void Should_recognize_the_CIFAR_ResNet20_checkpoint()
    {
        var match = ArchitectureDetector.Detect(Read("cifar_resnet20.pth").Tensors);
        Assert.NotNull(match);
        Assert.Equal(ResNetArchitecture.CifarResNet20, match.Architecture);
        Assert.Equal(10, match.NumClasses);
        Assert.Equal(3, match.InChannels);
    }

    [Fact]
    public void Should_recognize_another_class_count_and_a_gray_input_and_rank_near_misses()
    {
        using var model = ResNetModels.ResNet18(numClasses: 7, inChannels: 1);
        var tensors = model.OrderedStateDict().Select(e => NamedTensor.FromTensor(e.Key, e.Value)).ToList();
        var match = ArchitectureDetector.Detect(tensors);
        Assert.Equal("resnet18 (7 classes, 1 input channels)", match?.ToString());

        var ranked = ArchitectureDetector.Rank(tensors.Where(t => t.Name != "layer4.1.bn2.running_var").ToList());
        Assert.Null(ranked.FirstOrDefault(m => m.IsExact));
        Assert.Equal(ResNetArchitecture.ResNet18, ranked[0].Architecture);
        Assert.Equal("closest: resnet18 (121 of 122 keys match; the file has 121)", ranked[0].ToString());
    }

    [Fact]
    public void Should_recognize_a_self_supervised_backbone_whose_fc_is_a_projection_MLP()
    {
        using var model = ResNetModels.ResNet18();
        var backbone = model.OrderedStateDict().Where(e => !e.Key.StartsWith("fc.", StringComparison.Ordinal))
            .Select(e => NamedTensor.FromTensor("encoder_q." + e.Key, e.Value)).ToList();
        using var hidden = TorchSharp.torch.zeros(512, 512);
        using var projection = TorchSharp.torch.zeros(128, 512);
        backbone.Add(NamedTensor.FromTensor("encoder_q.fc.0.weight", hidden));
        backbone.Add(NamedTensor.FromTensor("encoder_q.fc.2.weight", projection));

        var match = ArchitectureDetector.Detect(backbone);

        Assert.Equal("resnet18 (no classifier, 3 input channels)", match?.ToString());
    }
}
