using Microsoft.ML.OnnxRuntime;
using ResNet.MLNet.Models;
using ResNet.MLNet.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Onnx;

/// <summary>Export options, the graph's interface and the exporter's manners, on CIFAR ResNet-20 (fast).</summary>
public class OnnxExportTests
{
    private const long Seed = 7;

    private static ResNetModel BuildPerturbed(ResNetOptions? options = null)
    {
        var model = ResNetModels.Build(options ?? ResNetModels.Options("cifar_resnet20"), Seed);
        OnnxParity.PerturbBatchNorms(model, Seed + 1);
        model.eval();
        return model;
    }

    private static Tensor Input(long batch, long height = 32, long width = 32)
    {
        random.manual_seed(Seed + 2);
        return rand(batch, 3, height, width);
    }

    [Fact]
    public void Should_run_any_batch_size_from_one_file()
    {
        using var model = BuildPerturbed();
        var options = new OnnxExportOptions { ImageHeight = 32, ImageWidth = 32 };
        using var onnx = new ExportedOnnx(model, options);
        using var one = Input(1);
        using var three = Input(3);
        OnnxParity.AssertMatches(model, onnx, one, options);
        OnnxParity.AssertMatches(model, onnx, three, options);

        var input = onnx.Session.InputMetadata["input"];
        Assert.Equal([-1, 3, 32, 32], input.Dimensions);
        Assert.Equal("batch", input.SymbolicDimensions[0]);
        Assert.Equal([-1, 10], onnx.Session.OutputMetadata["output"].Dimensions);
    }

    [Fact]
    public void Should_record_the_input_description_in_the_model_metadata()
    {
        using var model = BuildPerturbed();
        var input = ImageModelInput.ImageNet with { ImageSize = 32, ResizeSize = 36, ClassNames = Enumerable.Range(0, 10).Select(i => $"class {i}").ToArray() };
        using var onnx = new ExportedOnnx(model, new OnnxExportOptions { ImageHeight = 32, ImageWidth = 32, Input = input });

        const string prefix = "resnet_mlnet.input.";
        var recorded = onnx.Session.ModelMetadata.CustomMetadataMap.Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(e => e.Key[prefix.Length..], e => e.Value);
        var back = ImageModelInput.FromMetadata(recorded);

        Assert.NotNull(back);
        Assert.Equal((32, 36, 3), (back.ImageSize, back.ResizeSize, back.Channels));
        Assert.Equal(input.Mean, back.Mean);
        Assert.Equal(input.ClassNames, back.ClassNames);
    }

    [Fact]
    public void Should_leave_height_and_width_dynamic_when_not_fixed()
    {
        using var model = BuildPerturbed();
        var options = new OnnxExportOptions { ImageHeight = null, ImageWidth = null };
        using var onnx = new ExportedOnnx(model, options);
        Assert.Equal(["batch", "", "height", "width"], onnx.Session.InputMetadata["input"].SymbolicDimensions);
        using var square = Input(2);
        using var oblong = Input(2, 40, 48);
        OnnxParity.AssertMatches(model, onnx, square, options);
        OnnxParity.AssertMatches(model, onnx, oblong, options);
    }

    [Fact]
    public void Should_output_probabilities_that_sum_to_one()
    {
        using var model = BuildPerturbed();
        var options = new OnnxExportOptions { Output = ResNetOutputKind.Probabilities, ImageHeight = 32, ImageWidth = 32 };
        using var onnx = new ExportedOnnx(model, options);
        using var input = Input(3);
        OnnxParity.AssertMatches(model, onnx, input, options);
        var (values, shape) = onnx.Run(input);
        Assert.Equal([3, 10], shape);
        for (int row = 0; row < 3; row++)
            Assert.Equal(1.0, values.Skip(row * 10).Take(10).Sum(v => (double)v), precision: 5);
    }

    [Fact]
    public void Should_output_pooled_features_of_width_NumFeatures_with_or_without_head()
    {
        using var withHead = BuildPerturbed();
        using var headless = BuildPerturbed(ResNetModels.Options("cifar_resnet20") with { NumClasses = 0 });
        var options = new OnnxExportOptions { Output = ResNetOutputKind.Embedding, ImageHeight = 32, ImageWidth = 32 };
        using var input = Input(2);
        foreach (var model in new[] { withHead, headless })
        {
            using var onnx = new ExportedOnnx(model, options);
            Assert.Equal([-1, model.NumFeatures], onnx.Session.OutputMetadata["output"].Dimensions);
            OnnxParity.AssertMatches(model, onnx, input, options);
        }
    }

    [Fact]
    public void Should_use_the_given_input_and_output_names()
    {
        using var model = BuildPerturbed();
        // "conv1" is also an internal value name: the graph must rename its own value, not the interface.
        var options = new OnnxExportOptions { InputName = "pixels", OutputName = "conv1", ImageHeight = 32, ImageWidth = 32 };
        using var onnx = new ExportedOnnx(model, options);
        Assert.Equal(["pixels"], onnx.Session.InputNames);
        Assert.Equal(["conv1"], onnx.Session.OutputNames);
        using var input = Input(2);
        OnnxParity.AssertMatches(model, onnx, input, options);
    }

    [Fact]
    public void Should_fold_every_post_activation_BatchNorm_and_keep_only_unfoldable_pre_activation_ones()
    {
        using var post = BuildPerturbed();
        using var pre = BuildPerturbed(ResNetModels.Options("cifar_resnet20") with { PreActivation = true });
        var options = new OnnxExportOptions();
        var postOps = ResNetOnnx.BuildModel(post, options).Graph.Nodes.Select(n => n.OpType).ToList();
        var preNodes = ResNetOnnx.BuildModel(pre, options).Graph.Nodes.Where(n => n.OpType == "BatchNormalization").Select(n => n.Name).ToList();

        Assert.DoesNotContain("BatchNormalization", postOps);
        Assert.Equal(19, postOps.Count(op => op == "Conv"));
        // One per block (its input BN, shared with the identity shortcut) and the final norm: 9 + 1.
        Assert.Equal(10, preNodes.Count);
        Assert.All(preNodes, name => Assert.True(name == "norm" || name.EndsWith(".bn1", StringComparison.Ordinal), name));
    }

    [Fact]
    public void Should_not_change_the_model_mode_nor_leak_tensors()
    {
        using var model = BuildPerturbed();
        model.train();
        using var first = new MemoryStream();
        ResNetOnnx.Export(model, first); // warm-up: lazily created state is not a leak
        long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using var second = new MemoryStream();
        ResNetOnnx.Export(model, second);
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.True(model.training);
        model.eval();
        ResNetOnnx.Export(model, Stream.Null);
        Assert.False(model.training);
        Assert.Equal(first.ToArray(), second.ToArray()); // deterministic bytes
        Assert.True(second.CanWrite); // the caller's stream stays open
    }

    [Fact]
    public void Should_reject_options_that_do_not_fit_the_network_before_writing_anything()
    {
        using var headless = ResNetModels.Build(ResNetModels.Options("cifar_resnet20") with { NumClasses = 0, InChannels = 1 }, Seed);
        string path = Path.Combine(Path.GetTempPath(), $"resnet-mlnet-test-{Guid.NewGuid():N}.onnx");

        var logits = Assert.Throws<ArgumentException>(() => ResNetOnnx.Export(headless, path, new OnnxExportOptions { Normalization = null }));
        Assert.Equal(nameof(OnnxExportOptions.Output), logits.ParamName);
        var normalization = Assert.Throws<ArgumentException>(() => ResNetOnnx.Export(headless, path, new OnnxExportOptions { Output = ResNetOutputKind.Embedding }));
        Assert.Equal(nameof(OnnxExportOptions.Normalization), normalization.ParamName);
        var names = Assert.Throws<ArgumentException>(() => ResNetOnnx.Export(headless, path,
            new OnnxExportOptions { Output = ResNetOutputKind.Embedding, Normalization = null, OutputName = "input" }));
        Assert.Equal(nameof(OnnxExportOptions.OutputName), names.ParamName);
        var size = Assert.Throws<ArgumentException>(() => ResNetOnnx.Export(headless, path,
            new OnnxExportOptions { Output = ResNetOutputKind.Embedding, Normalization = null, ImageWidth = 0 }));
        Assert.Equal(nameof(OnnxExportOptions.ImageHeight), size.ParamName);
        Assert.False(File.Exists(path));
    }
}
