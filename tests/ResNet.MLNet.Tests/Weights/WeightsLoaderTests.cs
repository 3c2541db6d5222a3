using ResNet.MLNet.Models;
using ResNet.MLNet.Weights;
using TorchSharp;
using Xunit.Abstractions;
using static ResNet.MLNet.Tests.Weights.WeightsFixtures;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Weights;

public class WeightsLoaderTests(ITestOutputHelper output)
{
    private const string Cifar = "cifar_resnet20.pth";

    [Fact]
    public void Should_give_the_reference_logits_for_the_CIFAR_ResNet20_checkpoint()
    {
        var expected = Json("cifar_resnet20.json");
        using var model = ResNetModels.CifarResNet(20);
        Assert.Equal(model.OrderedStateDict().Select(e => e.Key), Read(Cifar).Tensors.Select(t => t.Name));

        var report = WeightsLoader.Load(model, PathOf(Cifar));
        Assert.True(report.IsComplete, report.ToString());
        Assert.Equal(116, report.Loaded.Count);
        model.eval();
        using var scope = NewDisposeScope();
        var input = tensor(expected.GetProperty("input").EnumerateArray().Select(v => v.GetSingle()).ToArray())
            .reshape(expected.GetProperty("input_shape").EnumerateArray().Select(v => v.GetInt64()).ToArray());
        using var noGrad = no_grad();
        float[] logits = model.forward(input).data<float>().ToArray();
        float[] reference = expected.GetProperty("logits").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        AssertClose(reference, logits, output);
    }

    /// <summary>Asserts every |a - b| is within 1e-4 of the largest reference magnitude, and reports the differences.</summary>
    internal static void AssertClose(float[] reference, float[] actual, ITestOutputHelper output)
    {
        Assert.Equal(reference.Length, actual.Length);
        double scale = reference.Max(v => Math.Abs((double)v));
        double maxAbs = reference.Zip(actual, (r, a) => Math.Abs((double)r - a)).Max();
        double maxElementRelative = reference.Zip(actual, (r, a) => Math.Abs((double)r - a) / Math.Max(Math.Abs((double)r), 1e-6)).Max();
        output.WriteLine($"{reference.Length} logits: max |reference| {scale:G4}, max abs diff {maxAbs:E2}, relative to max |reference| {maxAbs / scale:E2}, max element-wise relative {maxElementRelative:E2}");
        Assert.True(maxAbs <= 1e-4 * scale, $"max abs diff {maxAbs} exceeds 1e-4 x {scale}");
    }

    [Fact]
    public void Should_list_every_problem_of_a_strict_load_and_copy_nothing()
    {
        var tensors = Read(Cifar).Tensors
            .Where(t => t.Name is not "layer2.0.conv1.weight" and not "layer3.2.bn2.running_var")
            .Select(t => t.Name switch
            {
                "layer1.0.conv2.weight" => Resized(t, [16, 8, 3, 3]),
                "bn1.weight" => Resized(t, [17]),
                _ => t,
            })
            .Append(new NamedTensor("extra.weight", ScalarType.Float32, [1], new byte[4]))
            .ToList();
        using var model = ResNetModels.CifarResNet(20);
        using var before = model.OrderedStateDict()[0].Value.clone();

        var e = Assert.Throws<WeightsMismatchException>(() => WeightsLoader.Load(model, tensors, source: "broken.pth"));
        output.WriteLine(e.Message);
        Assert.Equal(["layer2.0.conv1.weight", "layer3.2.bn2.running_var"], e.Report.Missing);
        Assert.Equal(["extra.weight"], e.Report.Unexpected);
        Assert.Equal(["bn1.weight", "layer1.0.conv2.weight"], e.Report.ShapeMismatches.Select(m => m.Key));
        Assert.Equal([16L, 16, 3, 3], e.Report.ShapeMismatches[1].Expected);
        Assert.Equal([16L, 8, 3, 3], e.Report.ShapeMismatches[1].Found);
        foreach (string text in new[] { "layer2.0.conv1.weight", "layer3.2.bn2.running_var", "extra.weight", "bn1.weight: model [16], file [17]",
                                        "layer1.0.conv2.weight: model [16, 16, 3, 3], file [16, 8, 3, 3]", "broken.pth" })
            Assert.Contains(text, e.Message);
        Assert.True(before.eq(model.OrderedStateDict()[0].Value).all().item<bool>(), "a failed strict load changed the model");

        var partial = WeightsLoader.Load(model, tensors, new WeightsLoadOptions { Strict = false });
        Assert.Equal(116 - 4, partial.Loaded.Count);
        Assert.False(partial.IsComplete);
    }

    [Fact]
    public void Should_leave_the_head_initialized_when_class_counts_differ()
    {
        using var model = ResNetModels.CifarResNet(20, numClasses: 5);
        var fcBefore = NamedTensor.FromTensor("fc.weight", model.OrderedStateDict().Single(e => e.Key == "fc.weight").Value);

        var report = WeightsLoader.Load(model, PathOf(Cifar));
        output.WriteLine(report.ToString());
        Assert.True(report.HeadReinitialized);
        Assert.Contains("10 classes", report.HeadNote);
        Assert.Equal(["fc.weight", "fc.bias"], report.Skipped);
        Assert.True(report.IsComplete);
        Assert.Equal(114, report.Loaded.Count);
        AssertSameTensors([fcBefore], [NamedTensor.FromTensor("fc.weight", model.OrderedStateDict().Single(e => e.Key == "fc.weight").Value)]);
        AssertLoaded(model, "layer3.2.conv2.weight");

        var e = Assert.Throws<WeightsMismatchException>(() => WeightsLoader.Load(model, PathOf(Cifar), WeightsLoadOptions.Exact));
        Assert.Contains("fc.weight: model [5, 64], file [10, 64]", e.Message);
    }

    [Fact]
    public void Should_load_a_backbone_without_head_and_skip_the_file_classifier()
    {
        using var model = ResNetModels.CifarResNet(20, numClasses: 0);
        var report = WeightsLoader.Load(model, PathOf(Cifar));
        Assert.Contains("no head", report.HeadNote);
        Assert.Equal(["fc.weight", "fc.bias"], report.Skipped);
    }

    [Fact]
    public void Should_sum_RGB_weights_for_a_one_channel_model_so_gray_images_give_the_RGB_logits()
    {
        using var rgb = ResNetModels.CifarResNet(20);
        using var gray = ResNetModels.CifarResNet(20, inChannels: 1);
        WeightsLoader.Load(rgb, PathOf(Cifar));
        var report = WeightsLoader.Load(gray, PathOf(Cifar));
        output.WriteLine(report.ToString());
        Assert.Single(report.Adapted);
        Assert.StartsWith("conv1.weight", report.Adapted[0]);

        rgb.eval();
        gray.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = rand(2, 1, 32, 32);
        var expected = rgb.forward(x.expand(2, 3, 32, 32)).data<float>().ToArray();
        var actual = gray.forward(x).data<float>().ToArray();
        AssertClose(expected, actual, output);
    }

    [Fact]
    public void Should_repeat_and_scale_RGB_weights_for_more_channels()
    {
        using var model = ResNetModels.CifarResNet(20, inChannels: 4);
        WeightsLoader.Load(model, PathOf(Cifar));
        var file = Values(Read(Cifar).Tensors.Single(t => t.Name == "conv1.weight")); // [16, 3, 3, 3]
        var loaded = Values(NamedTensor.FromTensor("w", model.OrderedStateDict()[0].Value)); // [16, 4, 3, 3]
        for (int o = 0; o < 16; o++)
            for (int c = 0; c < 4; c++)
                for (int k = 0; k < 9; k++)
                    Assert.Equal(file[(o * 3 + c % 3) * 9 + k] * 0.75, loaded[(o * 4 + c) * 9 + k], tolerance: 1e-6);
    }

    [Fact]
    public void Should_map_timm_heads_and_DataParallel_prefixes()
    {
        var tensors = Read(Cifar).Tensors.Select(t => t.Name switch
        {
            "fc.weight" => new NamedTensor("head.fc.weight", t.DType, [10, 64, 1, 1], t.Data), // a 1x1-conv classifier
            "fc.bias" => t.WithName("head.fc.bias"),
            _ => t,
        }).Select(t => t.WithName("module." + t.Name)).ToList();
        using var model = ResNetModels.CifarResNet(20);
        var report = WeightsLoader.Load(model, tensors);
        Assert.True(report.IsComplete, report.ToString());
        AssertLoaded(model, "fc.weight");
    }

    [Theory]
    [InlineData("model.")]            // PyTorch Lightning
    [InlineData("backbone.")]
    [InlineData("module.encoder.")]   // DataParallel around a wrapper
    public void Should_find_the_prefix_a_training_framework_put_before_the_keys_and_leave_out_the_rest(string prefix)
    {
        var tensors = Read(Cifar).Tensors.Select(t => t.WithName(prefix + t.Name))
            .Append(Read(Cifar).Tensors[0].WithName("criterion.weight")).ToList(); // another module's tensor
        using var model = ResNetModels.CifarResNet(20);
        var report = WeightsLoader.Load(model, tensors);
        Assert.True(report.IsComplete, report.ToString());
        AssertLoaded(model, "fc.weight");
        AssertLoaded(model, "layer3.2.conv2.weight");
    }

    [Fact]
    public void Should_load_a_head_written_as_a_Sequential_around_one_Linear_and_leave_a_projection_MLP_alone()
    {
        // fc = nn.Sequential(nn.Dropout(0.2), nn.Linear(64, 10)): the Linear's keys are fc.1.weight and fc.1.bias.
        var tensors = Read(Cifar).Tensors.Select(t => t.Name.StartsWith("fc.", StringComparison.Ordinal) ? t.WithName("fc.1." + t.Name[3..]) : t).ToList();
        using var model = ResNetModels.CifarResNet(20);
        var report = WeightsLoader.Load(model, tensors);
        Assert.True(report.IsComplete, report.ToString());
        AssertLoaded(model, "fc.weight");
        AssertLoaded(model, "fc.bias");

        // Two Linears under fc. (a self-supervised projection head) are no classifier: the backbone loads, the head stays.
        var fc = tensors.Single(t => t.Name == "fc.1.weight");
        var mlp = tensors.Append(fc.WithName("fc.3.weight")).ToList();
        var backbone = WeightsLoader.Load(model, mlp);
        Assert.Contains("head: the file has no classifier", backbone.ToString());
    }

    [Fact]
    public void Should_refuse_a_file_with_two_networks_naming_their_prefixes_and_load_the_one_asked_for()
    {
        var tensors = Read(Cifar).Tensors.Select(t => t.WithName("module.encoder_q." + t.Name))
            .Concat(Read(Cifar).Tensors.Select(t => t.WithName("module.encoder_k." + t.Name))).ToList();
        using var model = ResNetModels.CifarResNet(20);
        var error = Assert.Throws<InvalidDataException>(() => WeightsLoader.Load(model, tensors));
        Assert.Contains("2 networks", error.Message);
        Assert.Contains("'module.encoder_k.', 'module.encoder_q.'", error.Message);
        Assert.Contains("KeyPrefix", error.Message);

        var report = WeightsLoader.Load(model, tensors, WeightsLoadOptions.Default with { KeyPrefix = "module.encoder_q." });
        Assert.True(report.IsComplete, report.ToString());
        AssertLoaded(model, "fc.weight");
        // Readers of torch.save files drop DataParallel's module. from every key: the prefix matches without it too.
        var read = tensors.Select(t => t.WithName(t.Name["module.".Length..])).ToList();
        Assert.True(WeightsLoader.Load(model, read, WeightsLoadOptions.Default with { KeyPrefix = "module.encoder_q." }).IsComplete);
        var none = Assert.Throws<InvalidDataException>(() => WeightsLoader.Load(model, read, WeightsLoadOptions.Default with { KeyPrefix = "ema." }));
        Assert.Contains("No key of the weights starts with 'ema.'", none.Message);
    }

    [Fact]
    public void Should_accept_checkpoints_without_BatchNorm_counters_and_convert_types()
    {
        var tensors = Read(Cifar).Tensors.Where(t => !t.Name.EndsWith("num_batches_tracked", StringComparison.Ordinal))
            .Select(t => ToDType(t, ScalarType.Float16)).ToList();
        using var model = ResNetModels.CifarResNet(20);
        var report = WeightsLoader.Load(model, tensors);
        Assert.True(report.IsComplete, report.ToString());
        var weight = model.OrderedStateDict()[0].Value;
        Assert.Equal(ScalarType.Float32, weight.dtype);
        Assert.Equal(Values(tensors[0]), Values(NamedTensor.FromTensor("w", weight)));

        model.to(ScalarType.BFloat16);
        WeightsLoader.Load(model, PathOf(Cifar));
        Assert.Equal(ScalarType.BFloat16, model.OrderedStateDict()[0].Value.dtype);
    }

    private static void AssertLoaded(ResNetModel model, string key)
    {
        var file = Read(Cifar).Tensors.Single(t => t.Name == key);
        var actual = NamedTensor.FromTensor(key, model.OrderedStateDict().Single(e => e.Key == key).Value);
        Assert.Equal(Values(file), Values(actual));
    }

    private static NamedTensor Resized(NamedTensor t, long[] shape) =>
        new(t.Name, t.DType, shape, new byte[shape.Aggregate(4L, (a, b) => a * b)]);

    private static NamedTensor ToDType(NamedTensor t, ScalarType type)
    {
        if (t.DType != ScalarType.Float32)
            return t;
        using var source = t.ToTensor();
        using var converted = source.to_type(type);
        return NamedTensor.FromTensor(t.Name, converted);
    }
}
