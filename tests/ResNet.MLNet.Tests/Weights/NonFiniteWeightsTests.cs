using System.Runtime.InteropServices;
using ResNet.MLNet.Models;
using ResNet.MLNet.Tests.Cli;
using ResNet.MLNet.Tests.TestSupport;
using ResNet.MLNet.Weights;
using static ResNet.MLNet.Tests.Weights.WeightsFixtures;

namespace ResNet.MLNet.Tests.Weights;

/// <summary>Weights holding NaN or infinities are refused by name unless allowed.</summary>
public class NonFiniteWeightsTests
{
    /// <summary>cifar_resnet20's tensors with <paramref name="value"/> written at index 5 of <paramref name="name"/>.</summary>
    private static List<NamedTensor> Poisoned(string name, float value)
    {
        return Read("cifar_resnet20.pth").Tensors.Select(t =>
        {
            if (t.Name != name)
                return t;
            var values = t.ToArray<float>();
            values[5] = value;
            return new NamedTensor(t.Name, t.DType, t.Shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
        }).ToList();
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Should_refuse_a_non_finite_weight_naming_the_tensor_unless_allowed(float value)
    {
        var tensors = Poisoned("layer2.1.conv1.weight", value);
        using var model = ResNetModels.Build("cifar_resnet20", numClasses: 10);

        var e = Assert.Throws<InvalidDataException>(() => WeightsLoader.Load(model, tensors, WeightsLoadOptions.Exact, "poisoned.pth"));

        Assert.Contains("poisoned.pth: tensor 'layer2.1.conv1.weight' holds 1 NaN or infinite value(s) (the first at index 5)", e.Message);
        var report = WeightsLoader.Load(model, tensors, WeightsLoadOptions.Exact with { AllowNonFinite = true }, "poisoned.pth");
        Assert.True(report.IsComplete);
    }

    [Fact]
    public void Predict_refuses_nan_weights_in_one_line_and_loads_them_when_told()
    {
        using var dir = new TempDirectory();
        string path = dir.File("nan.safetensors");
        SafeTensors.Write(path, Poisoned("fc.weight", float.NaN));
        string[] args = ["predict", "--arch", "cifar_resnet20", "--weights", path, "--image", PredictFixtures.PathOf("gray.png")];

        var refused = CliRunner.Run(args);
        CliRunner.AssertFails(refused, $"{path}: tensor 'fc.weight' holds 1 NaN");
        Assert.Contains("--allow-nonfinite-weights", CliRunner.Run([.. args, "--help"]).Output);
        var allowed = CliRunner.Run([.. args, "--allow-nonfinite-weights"]);
        Assert.True(allowed.ExitCode == 0, allowed.Error);
    }
}
