using ResNet.MLNet.Models;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Models;

/// <summary>
/// A full forward, backward and optimizer step through every bottleneck depth. On this CPU, oneDNN dies with SIGFPE
/// in the input gradient of a strided 1x1 convolution with 512+ input channels (README, "Platform notes": oneDNN on AVX-512 CPUs), which would take the
/// test host down; these tests prove the shortcut formulation avoids it.
/// </summary>
public class TrainingStepTests
{
    [Theory]
    [InlineData("resnet50")]
    [InlineData("resnet101")]
    [InlineData("resnet152")]
    [InlineData("wide_resnet50_2")]
    [InlineData("resnext50_32x4d")]
    [InlineData("seresnet50")]
    [InlineData("preact_resnet50")]
    [InlineData("resnet18")]
    [InlineData("cifar_resnet20")]
    public void Should_run_a_complete_training_step(string arch)
    {
        using var model = ResNetModels.Build(ResNetModels.Options(arch) with { NumClasses = 4 }, seed: 7);
        model.train();
        using var optimizer = optim.SGD(model.parameters(), learningRate: 0.01, momentum: 0.9);
        using var scope = NewDisposeScope();
        var x = randn(2, 3, 64, 64);
        var target = tensor(new long[] { 1, 3 });
        var before = model.parameters().Select(p => p.detach().clone()).ToList();

        optimizer.zero_grad();
        var loss = nn.functional.cross_entropy(model.forward(x), target);
        loss.backward();
        optimizer.step();

        Assert.True(float.IsFinite(loss.item<float>()));
        var downsampleGrad = model.named_parameters().Where(p => p.name.Contains("downsample")).Select(p => p.parameter.grad).ToList();
        Assert.All(downsampleGrad, g => Assert.True(g is not null && g.abs().sum().item<float>() > 0));
        int changed = model.parameters().Zip(before).Count(p => !p.First.equal(p.Second).all().item<bool>());
        Assert.True(changed > model.parameters().Count() / 2, $"only {changed} parameter tensors changed");
    }
}
