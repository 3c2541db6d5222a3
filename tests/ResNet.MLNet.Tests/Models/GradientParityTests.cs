using System.Text.Json;
using ResNet.MLNet.Models;
using ResNet.MLNet.Tests.TestSupport;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Models;

/// <summary>
/// Training-mode loss and gradients equal torchvision's (fixtures made by Fixtures/parity/make_gradient_fixtures.py with
/// Debian's torch 1.13, in float64): in float64, the network's backward graph; in float32, the libtorch 2.10 (oneDNN)
/// kernels that training runs, within the distance of PyTorch's own float32 run from the float64 reference.
/// </summary>
public class GradientParityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("resnet18_gray28", "resnet18", 1, ScalarType.Float64)]
    [InlineData("resnet18_gray28", "resnet18", 1, ScalarType.Float32)]
    [InlineData("resnet50", "resnet50", 3, ScalarType.Float64)]
    [InlineData("resnet50", "resnet50", 3, ScalarType.Float32)]
    [InlineData("cifar_resnet20", "cifar_resnet20", 3, ScalarType.Float64)]
    [InlineData("cifar_resnet20", "cifar_resnet20", 3, ScalarType.Float32)]
    public void Should_match_torchvision_loss_and_gradients_in_training_mode(string fixture, string arch, int channels, ScalarType dtype)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("parity", fixture + ".grad.json")));
        var root = doc.RootElement;
        int classes = root.GetProperty("classes").GetInt32();
        var shape = root.GetProperty("input_shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
        // float64 differs from the reference only by summation order; float32 as much as PyTorch's float32 does, with margin.
        double tolerance = dtype == ScalarType.Float64 ? 1e-7 : Math.Max(1e-4, 4 * root.GetProperty("pytorch_float32_worst_gradient_difference").GetDouble());
        using var model = new ResNetModel(ResNetModels.Options(arch) with { InChannels = channels, NumClasses = classes });
        DeterministicWeights.FillHashed(model);
        model.to(dtype).train();

        using var scope = NewDisposeScope();
        var x = sin(arange(shape.Aggregate(1L, (a, b) => a * b), dtype: ScalarType.Float64) * 0.01).reshape(shape).to(dtype);
        var loss = nn.functional.cross_entropy(model.forward(x), arange(shape[0]) % classes);
        loss.backward();

        double expectedLoss = root.GetProperty("loss").GetDouble();
        Assert.Equal(expectedLoss, loss.to(ScalarType.Float64).item<double>(), tolerance: tolerance * Math.Abs(expectedLoss));
        var expected = root.GetProperty("gradients").EnumerateArray().ToList();
        var parameters = model.named_parameters().ToList();
        Assert.Equal(expected.Select(e => e.GetProperty("key").GetString()), parameters.Select(p => p.name));
        double worst = 0;
        foreach (var (e, (name, parameter)) in expected.Zip(parameters))
        {
            var g = parameter.grad!.to(ScalarType.Float64).flatten();
            double norm = g.norm().item<double>();
            double dot = g.mul(sin(arange(g.numel(), dtype: ScalarType.Float64) * 0.13 + 1)).sum().item<double>();
            double expectedNorm = e.GetProperty("norm").GetDouble(), expectedDot = e.GetProperty("probe").GetDouble();
            // The probe product is compared at the scale of the gradient (norm x sqrt(n) bounds it).
            double difference = Math.Max(Math.Abs(norm - expectedNorm) / expectedNorm, Math.Abs(dot - expectedDot) / (expectedNorm * Math.Sqrt(g.numel())));
            worst = Math.Max(worst, difference);
            Assert.True(difference <= tolerance,
                $"{name}: gradient norm {norm:G9} vs torchvision {expectedNorm:G9}, probe {dot:G9} vs {expectedDot:G9} (relative {difference:G3} > {tolerance:G3})");
        }
        output.WriteLine($"{fixture} {dtype}: loss {loss.to(ScalarType.Float64).item<double>():G10} vs {expectedLoss:G10}, worst relative gradient difference {worst:G3} (tolerance {tolerance:G3})");
    }
}
