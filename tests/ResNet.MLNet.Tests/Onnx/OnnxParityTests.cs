using ResNet.MLNet.Models;
using ResNet.MLNet.Onnx;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Onnx;

/// <summary>
/// Every network of the zoo, and option combinations the zoo does not name, exported and run in ONNX Runtime against
/// TorchSharp's eval-mode forward (BatchNorms perturbed so that folding counts). Inputs are batch 2, 64x64 for
/// ImageNet-stem networks and 32x32 for CIFAR ones.
/// </summary>
public class OnnxParityTests(ITestOutputHelper output)
{
    private const long Seed = 20240611;

    private static readonly Dictionary<string, (ResNetOptions Network, OnnxExportOptions Export)> CustomCases = new()
    {
        ["cifar_resnet20 option B"] = (ResNetModels.Options("cifar_resnet20") with { Shortcut = ShortcutKind.Projection }, new()),
        ["grayscale resnet18"] = (ResNetModels.Options("resnet18") with { InChannels = 1, NumClasses = 7 },
            new() { Normalization = new InputNormalization([0.5f], [0.25f]) }),
        ["grayscale cifar_resnet20 without normalization"] = (ResNetModels.Options("cifar_resnet20") with { InChannels = 1 },
            new() { Normalization = null }),
        ["resnet50 without head"] = (ResNetModels.Options("resnet50") with { NumClasses = 0 }, new() { Output = ResNetOutputKind.Embedding }),
        ["preact cifar_resnet20"] = (ResNetModels.Options("cifar_resnet20") with { PreActivation = true }, new()),
        ["preact cifar_resnet20 option B"] = (ResNetModels.Options("cifar_resnet20") with { PreActivation = true, Shortcut = ShortcutKind.Projection }, new()),
        ["preact SE grouped bottleneck, CIFAR stem"] = (new ResNetOptions
        {
            Name = "preact_se_resnext_tiny",
            Block = BlockKind.Bottleneck,
            Stem = StemKind.Cifar,
            StemWidth = 16,
            Layers = [1, 2, 1],
            StageWidths = [16, 32, 64],
            Groups = 4,
            WidthPerGroup = 16,
            PreActivation = true,
            SqueezeExcitation = true,
            NumClasses = 10,
        }, new() { Output = ResNetOutputKind.Probabilities }),
    };

    public static TheoryData<string> ZooNames() => new(ResNetModels.Names);

    public static TheoryData<string> CustomNames() => new(CustomCases.Keys);

    [Theory]
    [MemberData(nameof(ZooNames))]
    public void Zoo_network_in_ONNX_Runtime_matches_TorchSharp(string name) =>
        AssertParity(name, ResNetModels.Options(name), new OnnxExportOptions());

    [Theory]
    [MemberData(nameof(CustomNames))]
    public void Custom_network_in_ONNX_Runtime_matches_TorchSharp(string name)
    {
        var (network, export) = CustomCases[name];
        AssertParity(name, network, export);
    }

    private void AssertParity(string label, ResNetOptions network, OnnxExportOptions export)
    {
        int size = network.Stem == StemKind.Cifar ? 32 : 64;
        using var model = ResNetModels.Build(network, Seed);
        OnnxParity.PerturbBatchNorms(model, Seed + 1);
        model.eval();
        export = export with { ImageHeight = size, ImageWidth = size };
        using var onnx = new ExportedOnnx(model, export);
        random.manual_seed(Seed + 2);
        using var input = rand(2, network.InChannels, size, size);
        var (maxDiff, maxAbs, relative) = OnnxParity.AssertMatches(model, onnx, input, export);
        output.WriteLine($"{label}: {export.Output} max|diff| {maxDiff:E2}, max|torch| {maxAbs:E2}, relative {relative:E2}");
    }
}
