using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using ResNet.MLNet.Models;
using ResNet.MLNet.Onnx;
using ResNet.MLNet.Tests.Onnx;
using ResNet.MLNet.Tests.TestSupport;
using ResNet.MLNet.Weights;
using TorchSharp.Modules;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Weights;

/// <summary>
/// ONNX graphs of ResNets imported as torchvision state_dicts: this library's exports (folded BatchNorm) round-trip,
/// torch.onnx.export files compute torchvision's logits, ML.NET's CNTK ResNet-18 computes what ONNX Runtime computes,
/// and graphs of another layout are refused naming the first node or key that differs.
/// </summary>
public class OnnxWeightsImporterTests(ITestOutputHelper output)
{
    private const long Seed = 20261203;

    /// <summary>Narrow widths keep the bottleneck cases fast; the layouts (block, layers, groups, shortcuts) are the zoo's.</summary>
    private static readonly Dictionary<string, ResNetOptions> RoundTrips = new()
    {
        ["resnet18"] = ResNetModels.Options("resnet18") with { NumClasses = 10 },
        ["resnet50 (narrow)"] = ResNetModels.Options("resnet50") with { StemWidth = 16, StageWidths = [16, 32, 64, 128], NumClasses = 10 },
        ["resnext50_32x4d (narrow)"] = ResNetModels.Options("resnext50_32x4d") with { StemWidth = 16, StageWidths = [16, 32, 64, 128], NumClasses = 10 },
    };

    public static TheoryData<string> RoundTripNames() => new(RoundTrips.Keys);

    public static TheoryData<string> FoldedFixtures() => new("folded_basic", "folded_bottleneck");

    private static string MlNetModels => Path.Combine(AppContext.BaseDirectory, "DnnImageModels");

    private static string MlNetResNet18 => Path.Combine(MlNetModels, "ResNet18Onnx", "ResNet18.onnx");

    private static string MlNetPreprocess => Path.Combine(MlNetModels, "ResNetPrepOnnx", "ResNetPreprocess.onnx");

    [Theory]
    [MemberData(nameof(RoundTripNames))]
    public void Should_give_back_the_state_dict_the_exporter_folded(string name)
    {
        using var model = ResNetModels.Build(RoundTrips[name], Seed);
        // BatchNorms that fold to the identity plus a bias: then folding and unfolding give back every value.
        SetFoldableNorms(model);
        using var dir = new TempDirectory();
        string path = dir.File("model.onnx");
        ResNetOnnx.Export(model, path, new OnnxExportOptions { Normalization = null, ImageHeight = 64, ImageWidth = 64 });

        var content = WeightsFile.Read(path);

        Assert.Equal(WeightsFormat.Onnx, content.Format);
        var expected = NamedTensor.FromModel(model);
        Assert.Equal(expected.Select(t => t.Name), content.Tensors.Select(t => t.Name));
        double worst = 0;
        foreach (var (e, a) in expected.Zip(content.Tensors))
        {
            Assert.Equal(e.Shape, a.Shape);
            Assert.Equal(e.DType, a.DType);
            if (e.DType == ScalarType.Float32)
                worst = Math.Max(worst, AssertClose.Relative(e.ToArray<float>(), a.ToArray<float>(), 1e-6));
            else
                Assert.Equal(e.ToArray<long>(), a.ToArray<long>());
        }
        output.WriteLine($"{name}: {content.Tensors.Count} tensors, worst relative difference {worst:E2}; {content.Metadata["onnx.block"]}, BatchNorm {content.Metadata["onnx.batchnorm"]}");
        if (name == "resnet18")
            Assert.Equal("resnet18", ArchitectureDetector.Detect(content.Tensors)?.Name);
    }

    [Fact]
    public void Should_compute_what_the_exported_graph_computes_when_norms_do_not_fold_to_the_identity()
    {
        var options = RoundTrips["resnext50_32x4d (narrow)"];
        using var original = ResNetModels.Build(options, Seed);
        OnnxParity.PerturbBatchNorms(original, Seed);
        using var dir = new TempDirectory();
        string path = dir.File("model.onnx");
        ResNetOnnx.Export(original, path, new OnnxExportOptions { Normalization = null });
        using var imported = ResNetModels.Build(options, Seed + 1);
        WeightsLoader.Load(imported, path, WeightsLoadOptions.Exact);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        original.eval();
        imported.eval();
        var x = DeterministicWeights.Input(64, 64);
        double relative = AssertClose.Relative(Floats(original.forward(x)), Floats(imported.forward(x)), 1e-4);
        output.WriteLine($"logits of the imported network vs the original: relative difference {relative:E2}");
    }

    [Theory]
    [MemberData(nameof(FoldedFixtures))]
    public void Should_compute_torchvision_logits_from_a_torch_onnx_export_with_folded_norms(string name)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("onnx", name + ".json")));
        var root = json.RootElement;
        var options = new ResNetOptions
        {
            Name = name,
            Block = root.GetProperty("block").GetString() == "Bottleneck" ? BlockKind.Bottleneck : BlockKind.Basic,
            Layers = Ints(root.GetProperty("layers")),
            StageWidths = Ints(root.GetProperty("stage_widths")),
            StemWidth = root.GetProperty("stem_width").GetInt32(),
            Groups = root.GetProperty("groups").GetInt32(),
            WidthPerGroup = root.GetProperty("width_per_group").GetInt32(),
            NumClasses = root.GetProperty("num_classes").GetInt32(),
        };
        float[] expected = root.GetProperty("logits").EnumerateArray().Select(v => v.GetSingle()).ToArray();

        var content = WeightsFile.Read(Fixtures.Path("onnx", name + ".onnx"));
        using var model = ResNetModels.Build(options, Seed);
        var report = WeightsLoader.Load(model, content.Tensors, WeightsLoadOptions.Exact);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.eval();
        double relative = AssertClose.Relative(expected, Floats(model.forward(DeterministicWeights.Input(64, 64))), 1e-4);
        Assert.Contains("folded", content.Metadata["onnx.batchnorm"]);
        output.WriteLine($"{name}: {report.Loaded.Count} tensors loaded; logits vs torchvision: relative difference {relative:E2}");
    }

    [Fact]
    public void Should_import_MLNet_ResNet18_as_ONNX_Runtime_runs_it_with_its_preprocessing()
    {
        var content = OnnxWeightsImporter.Read(MlNetResNet18, new OnnxImportOptions { ReverseInputChannels = true });
        // ML.NET's "ResNet-18" has three blocks in its last stage (22 convolutions), not torchvision's two.
        var options = ResNetModels.Options("resnet18") with { Name = "resnet18_mlnet", Layers = [2, 2, 2, 3], NumClasses = 0 };
        using var model = new ResNetModel(options);
        model.eval();
        var report = WeightsLoader.Load(model, content.Tensors, WeightsLoadOptions.Exact, MlNetResNet18);
        Assert.True(report.IsComplete);

        // The mean image the preprocessing graph subtracts, planes in BGR order.
        var (mean, dims) = OnnxModelReader.ReadInitializer(MlNetPreprocess, "MeanImage");
        Assert.Equal([1L, 3, 224, 224], dims);
        const int plane = 224 * 224;
        double[] channelMeans = [.. Enumerable.Range(0, 3).Select(c => mean.AsSpan(c * plane, plane).ToArray().Average(v => (double)v))];
        Assert.InRange(channelMeans[0], 103.05, 103.07);
        Assert.InRange(channelMeans[1], 115.89, 115.91);
        Assert.InRange(channelMeans[2], 123.14, 123.16);

        // RGB pixels in 0..255, planar, as ML.NET's ExtractPixels gives them.
        float[] pixels = [.. Enumerable.Range(0, 3 * plane).Select(i => (float)Math.Round(127.5 + 127.5 * Math.Sin(i * 0.013 + i / plane)))];
        float[] reference = RunMlNetGraphs(pixels);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // The model, fed RGB: the same pixels minus the mean image with its planes put in RGB order.
        var meanRgb = tensor(mean, [1, 3, 224, 224]).flip(1);
        var x = tensor(pixels, [1, 3, 224, 224]) - meanRgb;
        float[] actual = Floats(model.ForwardEmbedding(x));
        double relative = AssertClose.Relative(reference, actual, 1e-4);
        output.WriteLine($"ML.NET ResNet-18: 512 features, max |feature| {reference.Max(Math.Abs):F3}; TorchSharp vs ONNX Runtime relative difference {relative:E2}");
    }

    [Fact]
    public void Should_refuse_MLNet_ResNet18_in_torchvision_ResNet18_naming_the_extra_block()
    {
        var content = OnnxWeightsImporter.Read(MlNetResNet18, new OnnxImportOptions { ReverseInputChannels = true });
        using var model = ResNetModels.ResNet18(numClasses: 0);

        var e = Assert.Throws<WeightsMismatchException>(() => WeightsLoader.Load(model, content.Tensors, WeightsLoadOptions.Exact, MlNetResNet18));

        Assert.Contains("layer4.2.conv1.weight", e.Message);
        Assert.Equal(12, e.Report.Unexpected.Count); // layer4.2: two convolutions and two BatchNorms of 5 tensors
    }

    [Fact]
    public void Should_reverse_the_input_channels_of_conv1_only()
    {
        var plain = OnnxWeightsImporter.Read(MlNetResNet18);
        var reversed = OnnxWeightsImporter.Read(MlNetResNet18, new OnnxImportOptions { ReverseInputChannels = true });

        float[] a = plain.Tensors[0].ToArray<float>(), b = reversed.Tensors[0].ToArray<float>();
        Assert.Equal("conv1.weight", plain.Tensors[0].Name);
        const int plane = 7 * 7;
        for (int o = 0; o < 64; o++)
        {
            for (int c = 0; c < 3; c++)
                Assert.Equal(a.AsSpan((o * 3 + c) * plane, plane).ToArray(), b.AsSpan((o * 3 + 2 - c) * plane, plane).ToArray());
        }
        Assert.NotEqual(a, b);
        foreach (var (p, r) in plain.Tensors.Zip(reversed.Tensors).Skip(1))
            Assert.True(p.Data.Span.SequenceEqual(r.Data.Span), p.Name);
    }

    [Fact]
    public void Should_refuse_the_preprocessing_graph_naming_its_first_node()
    {
        var e = Assert.Throws<InvalidDataException>(() => WeightsFile.Read(MlNetPreprocess));

        Assert.StartsWith(MlNetPreprocess + ":", e.Message);
        Assert.Contains("node #0 '' (Split, output 'RInp')", e.Message);
        Assert.Contains("expected conv1", e.Message);
    }

    [Fact]
    public void Should_refuse_a_ResNet34_graph_in_a_ResNet18_naming_the_first_extra_key()
    {
        var narrow = new ResNetOptions { StemWidth = 8, StageWidths = [8, 16, 16, 16], NumClasses = 3 };
        using var resnet34 = ResNetModels.Build(narrow with { Name = "resnet34-layout", Layers = [3, 4, 6, 3] }, Seed);
        using var dir = new TempDirectory();
        string path = dir.File("resnet34.onnx");
        ResNetOnnx.Export(resnet34, path, new OnnxExportOptions { Normalization = null });
        using var resnet18 = ResNetModels.Build(narrow with { Name = "resnet18-layout", Layers = [2, 2, 2, 2] }, Seed);

        var e = Assert.Throws<WeightsMismatchException>(() => WeightsLoader.Load(resnet18, path));

        Assert.Contains("layer1.2.conv1.weight", e.Message);
        Assert.Equal("layer1.2.conv1.weight", e.Report.Unexpected[0]);
    }

    [Fact]
    public void Should_refuse_a_stride_outside_torchvision_place_naming_the_node()
    {
        // ResNet v1 strides in a bottleneck's first 1x1 convolution; torchvision (v1.5) in its 3x3 conv2.
        using var model = ResNetModels.Build(RoundTrips["resnet50 (narrow)"], Seed);
        var onnx = ResNetOnnx.BuildModel(model, new OnnxExportOptions { Normalization = null });
        var nodes = onnx.Graph.Nodes.Select(n => n.Name switch
        {
            "layer2.0.conv1" => WithStride(n, 2),
            "layer2.0.conv2" => WithStride(n, 1),
            _ => n,
        }).ToArray();
        using var stream = new MemoryStream();
        (onnx with { Graph = onnx.Graph with { Nodes = nodes } }).WriteTo(stream);

        var e = Assert.Throws<InvalidDataException>(() => OnnxWeightsImporter.Read(stream.ToArray(), "v1.onnx"));

        Assert.StartsWith("v1.onnx: ", e.Message);
        Assert.Contains("'layer2.0.conv1' (Conv, output 'layer2.0.conv1')", e.Message);
        Assert.Contains("expected layer2.0.conv1: strides [1, 1]", e.Message);
        Assert.Contains("got [2, 2]", e.Message);
    }

    [Fact]
    public void Should_build_no_classifier_from_a_graph_that_ends_at_the_pooling()
    {
        using var model = ResNetModels.Build(RoundTrips["resnet50 (narrow)"] with { NumClasses = 0 }, Seed);
        using var stream = new MemoryStream();
        ResNetOnnx.Export(model, stream, new OnnxExportOptions { Normalization = null, Output = ResNetOutputKind.Embedding, SingleRow = true });

        var content = OnnxWeightsImporter.Read(stream.ToArray(), "features.onnx");

        Assert.DoesNotContain(content.Tensors, t => t.Name.StartsWith("fc.", StringComparison.Ordinal));
        Assert.Null(content.NumClasses);
        Assert.Equal(NamedTensor.FromModel(model).Select(t => t.Name), content.Tensors.Select(t => t.Name));
    }

    [Theory]
    [InlineData("MatMul and Add")]
    [InlineData("Gemm with transB 0")]
    public void Should_read_the_classifier_from_other_linear_forms(string form)
    {
        using var model = ResNetModels.Build(RoundTrips["resnet50 (narrow)"] with { NumClasses = 7 }, Seed);
        var onnx = ResNetOnnx.BuildModel(model, new OnnxExportOptions { Normalization = null });
        var gemm = onnx.Graph.Nodes.Single(n => n.OpType == "Gemm");
        var weight = onnx.Graph.Initializers.Single(t => t.Name == gemm.Inputs[1]);
        // The (classes, features) weight as the (features, classes) matrix both forms multiply by.
        float[] w = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(weight.RawData).ToArray();
        long classes = weight.Dims[0], features = weight.Dims[1];
        float[] transposed = new float[w.Length];
        for (long r = 0; r < classes; r++)
        {
            for (long c = 0; c < features; c++)
                transposed[c * classes + r] = w[r * features + c];
        }
        var weightT = OnnxTensor.Floats("fc.weight_t", [features, classes], transposed);
        OnnxNode[] head = form == "MatMul and Add"
            ? [new OnnxNode("MatMul", "fc.matmul", [gemm.Inputs[0], weightT.Name], ["fc.matmul"], []),
               new OnnxNode("Add", "fc.add", ["fc.matmul", gemm.Inputs[2]], gemm.Outputs, [])]
            : [gemm with { Inputs = [gemm.Inputs[0], weightT.Name, gemm.Inputs[2]], Attributes = [OnnxAttribute.Int("transB", 0)] }];
        var graph = onnx.Graph with
        {
            Nodes = [.. onnx.Graph.Nodes.TakeWhile(n => n != gemm), .. head, .. onnx.Graph.Nodes.SkipWhile(n => n != gemm).Skip(1)],
            Initializers = [.. onnx.Graph.Initializers.Where(t => t != weight), weightT],
        };
        using var stream = new MemoryStream();
        (onnx with { Graph = graph }).WriteTo(stream);

        var content = OnnxWeightsImporter.Read(stream.ToArray(), form + ".onnx");

        var expected = NamedTensor.FromModel(model);
        Assert.Equal(expected.Select(t => t.Name), content.Tensors.Select(t => t.Name));
        foreach (string key in new[] { "fc.weight", "fc.bias" })
        {
            var (e, a) = (expected.Single(t => t.Name == key), content.Tensors.Single(t => t.Name == key));
            Assert.Equal(e.Shape, a.Shape);
            AssertClose.Relative(e.ToArray<float>(), a.ToArray<float>(), 1e-7);
        }
    }

    private static OnnxNode WithStride(OnnxNode node, long stride) =>
        node with { Attributes = node.Attributes.Select(a => a.Name == "strides" ? OnnxAttribute.Ints("strides", stride, stride) : a).ToArray() };

    /// <summary>ML.NET's two graphs in ONNX Runtime: the preprocessing (RGB to BGR, minus the mean image), then the ResNet.</summary>
    private static float[] RunMlNetGraphs(float[] pixels)
    {
        using var sessionOptions = new SessionOptions { IntraOpNumThreads = 2 };
        using var prep = new InferenceSession(MlNetPreprocess, sessionOptions);
        using var resnet = new InferenceSession(MlNetResNet18, sessionOptions);
        using var runOptions = new RunOptions();
        using var input = OrtValue.CreateTensorValueFromMemory(pixels, [1, 3, 224, 224]);
        using var prepared = prep.Run(runOptions, [prep.InputNames[0]], [input], [prep.OutputNames[0]]);
        using var features = resnet.Run(runOptions, [resnet.InputNames[0]], [prepared[0]], [resnet.OutputNames[0]]);
        Assert.Equal([1L, 512, 1, 1], features[0].GetTensorTypeAndShape().Shape);
        return features[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>BatchNorm weight 1, running mean 0, running var 1 - eps (so that sqrt(var + eps) = 1) and a seeded bias.</summary>
    private static void SetFoldableNorms(ResNetModel model)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        random.manual_seed(Seed);
        foreach (var bn in model.modules().OfType<BatchNorm2d>())
        {
            long c = bn.num_features;
            bn.weight!.fill_(1);
            bn.bias!.copy_(randn(c) * 0.1);
            bn.running_mean!.zero_();
            bn.running_var!.fill_(1 - OnnxWeightsImporter.ModelEpsilon);
        }
    }

    private static float[] Floats(Tensor t) => t.contiguous().data<float>().ToArray();

    private static int[] Ints(JsonElement array) => array.EnumerateArray().Select(v => v.GetInt32()).ToArray();
}
