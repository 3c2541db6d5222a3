using System.Text.Json;
using Xunit.Abstractions;
using ResNet.MLNet.Models;
using ResNet.MLNet.Tests.TestSupport;
using ResNet.MLNet.Weights;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Models;

/// <summary>
/// Same weights, same input, same logits as torchvision (fixtures made by Fixtures/parity/make_parity_fixtures.py
/// with Debian's torch 1.13 / torchvision 0.14).
/// </summary>
public class TorchvisionParityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("resnet18")]
    [InlineData("resnet50")]
    [InlineData("cifar_resnet20")]
    public void Should_match_torchvision_keys_shapes_and_logits(string arch)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("parity", arch + ".json")));
        var root = doc.RootElement;
        using var model = ResNetModels.Build(arch, numClasses: arch.StartsWith("cifar") ? 10 : 1000);

        var expectedKeys = root.GetProperty("state_dict").EnumerateArray()
            .Select(e => $"{e.GetProperty("key").GetString()} [{string.Join(", ", e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()))}]")
            .ToList();
        var actualKeys = model.OrderedStateDict().Select(e => $"{e.Key} [{string.Join(", ", e.Value.shape)}]").ToList();
        Assert.Equal(expectedKeys, actualKeys);
        Assert.Equal(root.GetProperty("parameters").GetInt64(), model.parameters().Sum(p => p.numel()));

        DeterministicWeights.Fill(model);
        model.eval();
        var shape = root.GetProperty("input_shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var logits = model.forward(DeterministicWeights.Input(shape[2], shape[3]));
        var expected = root.GetProperty("logits").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetSingle())).ToArray();
        var actual = logits.data<float>().ToArray();

        Assert.Equal(expected.Length, actual.Length);
        double worst = AssertClose.Relative(expected, actual, 1e-4);
        output.WriteLine($"{arch}: max relative logit difference {worst:G3}");
    }
}
