using ResNet.MLNet.Training;
using ResNet.MLNet.Weights;
using static ResNet.MLNet.Tests.Training.TrainingTestSupport;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Training;

public class MixedPrecisionTests
{
    [Fact]
    public void Should_learn_as_well_as_float32_while_keeping_float32_master_weights()
    {
        var factory = new ModelFactory(TinyOptions());
        using var train = Quadrants(64, seed: 31);
        using var validation = Quadrants(32, seed: 32);
        using var fp32 = factory.Create();
        using var bf16 = factory.Create();
        var options = FastOptions(epochs: 6);

        var reference = ResNetTrainer.Train(fp32, train, validation, options);
        options.MixedPrecisionBFloat16 = true;
        var mixed = ResNetTrainer.Train(bf16, train, validation, options);

        Assert.Equal("float32", reference.Precision);
        Assert.Equal(BFloat16Support.IsNativeOnCpu, mixed.Precision.Contains("native", StringComparison.Ordinal)); // emulation is said
        Assert.All(bf16.OrderedStateDict(), e => Assert.Equal(e.Key.EndsWith("num_batches_tracked") ? ScalarType.Int64 : ScalarType.Float32, e.Value.dtype));
        Assert.True(mixed.History[^1].ValidationAccuracy >= 0.9, $"bfloat16 validation accuracy {mixed.History[^1].ValidationAccuracy}");
        Assert.Equal(reference.History[^1].TrainLoss, mixed.History[^1].TrainLoss, tolerance: 1e-1);
        // The master weights moved like float32 training's: same direction, close values.
        var a = fp32.named_parameters().First(p => p.name == "fc.weight").parameter;
        var b = bf16.named_parameters().First(p => p.name == "fc.weight").parameter;
        Assert.True(a.allclose(b, rtol: 0.1, atol: 0.05), "fc weights differ beyond bfloat16 rounding");
        // BatchNorm statistics reached the master model.
        Assert.Equal(StateBytes(fp32, k => k.EndsWith("num_batches_tracked")).Values.Select(v => v[0]), StateBytes(bf16, k => k.EndsWith("num_batches_tracked")).Values.Select(v => v[0]));
    }
}
