using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ResNet.MLNet.Models;
using ResNet.MLNet.Onnx;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Onnx;

/// <summary>
/// Int8 QDQ graphs: ONNX Runtime's fused integer kernels compute what the graph's QuantizeLinear/DequantizeLinear
/// description says (the same graph run with every optimization off, which executes the Q/DQ arithmetic literally).
/// </summary>
public class OnnxQuantizerTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("resnet18", 32)]
    [InlineData("resnet50", 32)]
    [InlineData("resnext50_32x4d", 32)]
    [InlineData("preact_resnet18", 32)]
    [InlineData("seresnet50", 32)]
    [InlineData("cifar_resnet20", 32)]
    public void Fused_integer_kernels_compute_what_the_QDQ_graph_describes(string architecture, int size)
    {
        using var model = new ResNetModel(ResNetModels.Options(architecture));
        OnnxParity.PerturbBatchNorms(model, seed: 3);
        var floatModel = ResNetOnnx.BuildModel(model, new OnnxExportOptions { Output = ResNetOutputKind.Embedding, ImageHeight = size, ImageWidth = size });
        var (pixels, rows) = Images(size, 6, seed: 11);
        var ranges = OnnxQuantizer.Calibrate(OnnxQuantizer.CalibrationModel(floatModel), [(pixels, rows)], 3, size, size);
        var quantized = OnnxQuantizer.Quantize(floatModel, ranges, new QuantizationSettings(WeightBits: 7, CalibrationImages: rows));

        var described = Run(quantized, GraphOptimizationLevel.ORT_DISABLE_ALL, pixels, rows, size, out _);
        var fused = Run(quantized, GraphOptimizationLevel.ORT_ENABLE_ALL, pixels, rows, size, out var optimized);
        var floats = Run(floatModel, GraphOptimizationLevel.ORT_ENABLE_ALL, pixels, rows, size, out _);

        // The optimized graph really runs integer convolutions: every Conv but the stem's became a QLinearConv.
        int convs = floatModel.Graph.Nodes.Count(n => n.OpType == "Conv");
        int qlinear = optimized.Count(op => op == "QLinearConv");
        double scale = described.Max(Math.Abs);
        double difference = described.Zip(fused).Max(p => Math.Abs(p.First - p.Second));
        double cosine = global::ResNet.MLNet.Cli.Commands.BenchPretrainedCommand.Cosine(floats, fused);
        output.WriteLine($"{architecture}: {convs} Conv -> {qlinear} QLinearConv; max |fused - described| = {difference:G3} (max |described| {scale:G3}); cosine with float32 {cosine:F5}");
        Assert.Equal(convs - 1, qlinear);
        Assert.Single(optimized, op => op is "Conv" or "FusedConv");
        // Requantization rounds once per layer in the fused kernels; the description rounds the same values in float.
        Assert.True(difference <= 0.04 * scale, $"fused integer kernels differ from the QDQ description by {difference:G3} (scale {scale:G3})");
        Assert.True(cosine >= 0.98, $"cosine with the float32 graph {cosine:F5}");
    }

    [Fact]
    public void Weights_are_symmetric_per_channel_within_the_bit_budget()
    {
        var weight = OnnxTensor.Floats("w", [2, 1, 1, 3], [0.6f, -1f, 0.2f, 0f, 0f, 0f]);
        var (values, scales) = OnnxQuantizer.QuantizeWeights(weight, bits: 7);
        Assert.Equal([38, -63, 13, 0, 0, 0], values.Select(v => (int)v));
        Assert.Equal(1f / 63, scales[0], tolerance: 1e-7f);
        Assert.Equal(1f, scales[1]); // an all-zero channel keeps a harmless scale
        var (eight, _) = OnnxQuantizer.QuantizeWeights(weight, bits: 8);
        Assert.Equal(-127, eight[1]);
    }

    [Fact]
    public void Activation_ranges_always_include_zero()
    {
        var (scale, zero) = OnnxQuantizer.ActivationParameters(new ActivationRange(0.5f, 2.55f));
        Assert.Equal(0.01f, scale, tolerance: 1e-7f);
        Assert.Equal(0, zero);
        (scale, zero) = OnnxQuantizer.ActivationParameters(new ActivationRange(-1f, 1.55f));
        Assert.Equal(0.01f, scale, tolerance: 1e-7f);
        Assert.Equal(100, zero);
    }

    [Fact]
    public void Calibration_clips_a_long_tail_where_that_lowers_the_quantization_error()
    {
        // A ReLU-like activation: a million half-normal values (as many as a batch of feature maps holds) and three far
        // out in the tail, 36-40 sigma. Quantizing to 256 levels over all of [0, 40] rounds every value coarsely; clipping
        // the three costs less (about 25 is best).
        var random = new Random(7);
        float[] values = [.. Enumerable.Range(0, 1_000_000).Select(_ => (float)Math.Abs(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()))), 40f, 38f, 36f];
        float max = values.Max();

        var range = OnnxQuantizer.MseRange(values, "x");

        Assert.Equal(0f, range.Min);
        Assert.InRange(range.Max, 0.4f * max, 0.85f * max);
        double chosen = QuantizationError(values, range);
        Assert.True(chosen < QuantizationError(values, new ActivationRange(0, max)), "the full range quantizes better");
        Assert.True(chosen < QuantizationError(values, new ActivationRange(0, range.Max * 0.8f)), "a tighter range quantizes better");
        Assert.True(chosen < QuantizationError(values, new ActivationRange(0, Math.Min(max, range.Max * 1.25f))), "a wider range quantizes better");
        var e = Assert.Throws<InvalidDataException>(() => OnnxQuantizer.MseRange([1f, float.NaN], "layer1.0.add"));
        Assert.Contains("'layer1.0.add'", e.Message);
    }

    [Fact]
    public void Bias_correction_cancels_the_mean_shift_of_the_rounded_weights()
    {
        // Two output channels, grouped: channel 0 reads input channels 0-1, channel 1 reads 2-3; 1x1 kernels.
        var weight = OnnxTensor.Floats("w", [2, 2, 1, 1], [0.30f, -0.52f, 0.11f, 0.77f]);
        var (quantized, scales) = OnnxQuantizer.QuantizeWeights(weight, bits: 7);
        double[] means = [1.5, -2.0, 0.25, 3.0];
        float[] bias = [0.1f, -0.2f];

        var corrected = OnnxQuantizer.CorrectedBias(bias, weight, quantized, scales, means);

        float[] w = weight.ToFloats();
        for (int c = 0; c < 2; c++)
        {
            // The mean output with rounded weights and the corrected bias equals the float layer's mean output.
            double floatMean = bias[c], quantizedMean = corrected[c];
            for (int k = 0; k < 2; k++)
            {
                floatMean += w[2 * c + k] * means[2 * c + k];
                quantizedMean += quantized[2 * c + k] * (double)scales[c] * means[2 * c + k];
            }
            Assert.Equal(floatMean, quantizedMean, tolerance: 1e-5);
        }
        Assert.Throws<ArgumentException>(() => OnnxQuantizer.CorrectedBias(bias, weight, quantized, scales, [1.0, 2.0, 3.0]));
    }

    private static double QuantizationError(float[] values, ActivationRange range)
    {
        var (scale, zero) = OnnxQuantizer.ActivationParameters(range);
        return values.Sum(v => Math.Pow(v - (Math.Clamp(Math.Round(v / scale) + zero, 0, 255) - zero) * scale, 2));
    }

    [Fact]
    public void The_quantized_graph_keeps_no_float_copy_of_what_it_quantized()
    {
        using var model = new ResNetModel(ResNetModels.Options("resnet18"));
        var floatModel = ResNetOnnx.BuildModel(model, new OnnxExportOptions { Output = ResNetOutputKind.Embedding, ImageHeight = 32, ImageWidth = 32 });
        var (pixels, rows) = Images(32, 2, seed: 5);
        var ranges = OnnxQuantizer.Calibrate(OnnxQuantizer.CalibrationModel(floatModel), [(pixels, rows)], 3, 32, 32);

        var quantized = OnnxQuantizer.Quantize(floatModel, ranges, new QuantizationSettings(WeightBits: 7, CalibrationImages: rows));

        // Every initializer feeds a node (ONNX Runtime warns about, and carries, any that does not).
        var used = quantized.Graph.Nodes.SelectMany(n => n.Inputs).ToHashSet(StringComparer.Ordinal);
        var unused = quantized.Graph.Initializers.Select(t => t.Name).Where(name => !used.Contains(name)).ToList();
        Assert.True(unused.Count == 0, $"unused initializers: {string.Join(", ", unused)}");
    }

    [Fact]
    public void A_range_missing_from_calibration_is_named()
    {
        using var model = new ResNetModel(ResNetModels.Options("cifar_resnet20"));
        var floatModel = ResNetOnnx.BuildModel(model, new OnnxExportOptions { Output = ResNetOutputKind.Embedding, ImageHeight = 32, ImageWidth = 32 });
        var e = Assert.Throws<ArgumentException>(() => OnnxQuantizer.Quantize(floatModel, new Calibration(new Dictionary<string, ActivationRange>(), new Dictionary<string, double[]>()), new QuantizationSettings(7, 0)));
        Assert.Matches("No calibration range for activation '[^']+'", e.Message);
    }

    internal static (float[] Pixels, int Rows) Images(int size, int rows, long seed)
    {
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator((ulong)seed);
        return (rand([rows, 3, size, size], generator: generator).data<float>().ToArray(), rows);
    }

    /// <summary>Runs <paramref name="model"/>; <paramref name="optimizedOps"/> lists the op types ONNX Runtime ended up running.</summary>
    private static float[] Run(OnnxModel model, GraphOptimizationLevel level, float[] pixels, int rows, int size, out List<string> optimizedOps)
    {
        using var stream = new MemoryStream();
        model.WriteTo(stream);
        string optimizedPath = Path.Combine(Path.GetTempPath(), $"resnet-mlnet-quantized-{Guid.NewGuid():N}.onnx");
        try
        {
            using var options = new SessionOptions { GraphOptimizationLevel = level, IntraOpNumThreads = 2, OptimizedModelFilePath = optimizedPath };
            using var session = new InferenceSession(stream.ToArray(), options);
            var input = new DenseTensor<float>(pixels, [rows, 3, size, size]);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor(session.InputNames[0], input)]);
            optimizedOps = OnnxModelReader.Read(optimizedPath).Nodes.Select(n => n.OpType).ToList();
            return results[0].AsTensor<float>().ToArray();
        }
        finally
        {
            File.Delete(optimizedPath);
        }
    }
}
