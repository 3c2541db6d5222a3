using ResNet.MLNet.Training;
using TorchSharp;
using ResNet.MLNet.Models;
using static ResNet.MLNet.Tests.Training.TrainingTestSupport;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Training;

/// <summary>The trainer's optimizers against TorchSharp's own implementations of PyTorch's update rules.</summary>
public class OptimizerTests
{
    private static void SetGradients(ResNetModel model, int step)
    {
        foreach (var (name, p) in model.named_parameters())
            p.grad = sin(arange(p.numel(), dtype: ScalarType.Float32) * 0.3 + step + name.Length).reshape(p.shape);
    }

    [Theory]
    [InlineData(OptimizerKind.Sgd, false)]
    [InlineData(OptimizerKind.Sgd, true)]
    [InlineData(OptimizerKind.AdamW, false)]
    public void Should_match_TorchSharp_optimizers(OptimizerKind kind, bool nesterov)
    {
        var factory = new ModelFactory(TinyOptions());
        using var ours = factory.Create();
        using var theirs = factory.Create();
        var options = new TrainingOptions { Optimizer = kind, Nesterov = nesterov, WeightDecay = 0.05f, NoWeightDecayOnNormAndBias = false };
        using var optimizer = new Optimizer(new ModelParts(ours), options);
        using optim.Optimizer reference = kind == OptimizerKind.Sgd
            ? optim.SGD(theirs.parameters(), 0.1, momentum: 0.9, nesterov: nesterov, weight_decay: 0.05)
            : optim.AdamW(theirs.parameters(), 0.1, weight_decay: 0.05);

        for (int step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            SetGradients(ours, step);
            SetGradients(theirs, step);
            optimizer.Step(0.1);
            reference.step();
        }

        foreach (var ((name, a), (_, b)) in ours.named_parameters().Zip(theirs.named_parameters()))
            Assert.True(a.allclose(b, rtol: 1e-5, atol: 1e-6), $"{name} differs");
    }

    [Fact]
    public void Should_scale_the_rate_by_distance_from_the_head_and_spare_norms_and_biases_from_decay()
    {
        var factory = new ModelFactory(TinyOptions());
        using var model = factory.Create();
        var options = new TrainingOptions { Optimizer = OptimizerKind.Sgd, Momentum = 0, WeightDecay = 0.5f, EarlyStageLearningRateFactor = 0.5f };
        var parts = new ModelParts(model);
        using var optimizer = new Optimizer(parts, options);
        var before = parts.Parameters.ToDictionary(p => p.Name, p => p.Parameter.detach().clone());
        foreach (var (_, p, _) in parts.Parameters)
            p.grad = ones_like(p);

        optimizer.Step(1.0);

        foreach (var (name, p, distance) in parts.Parameters)
        {
            double lr = Math.Pow(0.5, distance); // fc 1, layer2 0.5, layer1 0.25, stem 0.125
            var decay = p.dim() > 1 ? 0.5 : 0.0;
            var expected = before[name] - lr * (1 + decay * before[name]);
            Assert.True(p.allclose(expected, rtol: 1e-5, atol: 1e-6), $"{name} (distance {distance})");
        }
        int DistanceOf(string prefix) => parts.Parameters.Where(p => p.Name.StartsWith(prefix)).Select(p => p.Distance).Distinct().Single();
        Assert.Equal([0, 1, 2, 3, 3], new[] { "fc.", "layer2.", "layer1.", "conv1.", "bn1." }.Select(DistanceOf));
    }
}
