using Microsoft.ML.OnnxRuntime;
using ResNet.MLNet.Onnx;
using TorchSharp.Modules;
using ResNet.MLNet.Models;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Onnx;

/// <summary>An exported network in a temporary file with an ONNX Runtime session on it (2 intra-op threads).</summary>
internal sealed class ExportedOnnx : IDisposable
{
    private readonly SessionOptions sessionOptions = new() { IntraOpNumThreads = 2 };

    public ExportedOnnx(ResNetModel model, OnnxExportOptions options)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"resnet-mlnet-test-{Guid.NewGuid():N}.onnx");
        ResNetOnnx.Export(model, Path, options);
        Session = new InferenceSession(Path, sessionOptions);
    }

    public string Path { get; }

    public InferenceSession Session { get; }

    /// <summary>Runs the graph on <paramref name="input"/> (a CPU float tensor); returns the output's values and shape.</summary>
    public (float[] Values, long[] Shape) Run(Tensor input)
    {
        float[] data = input.contiguous().data<float>().ToArray();
        using var value = OrtValue.CreateTensorValueFromMemory(data, input.shape);
        using var runOptions = new RunOptions();
        using var outputs = Session.Run(runOptions, [Session.InputNames[0]], [value], [Session.OutputNames[0]]);
        return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[0].GetTensorTypeAndShape().Shape);
    }

    public void Dispose()
    {
        Session.Dispose();
        sessionOptions.Dispose();
        File.Delete(Path);
    }
}

internal static class OnnxParity
{
    /// <summary>The agreement asked of ONNX Runtime and TorchSharp: max|a - b| &lt;= 1e-4 * max(1, max|a|), a the TorchSharp values.</summary>
    public const double Tolerance = 1e-4;

    /// <summary>
    /// Gives every BatchNorm seeded random running statistics and affine parameters, so that folding them into the
    /// convolutions is really exercised (freshly built BatchNorms are the identity).
    /// </summary>
    public static void PerturbBatchNorms(ResNetModel model, long seed)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        random.manual_seed(seed);
        foreach (var bn in model.modules().OfType<BatchNorm2d>())
        {
            long c = bn.num_features;
            bn.running_mean!.copy_(randn(c) * 0.1);
            bn.running_var!.copy_(rand(c) + 0.5);
            bn.weight!.copy_(rand(c) * 0.4 + 0.2);
            bn.bias!.copy_(randn(c) * 0.1);
        }
    }

    /// <summary>What the exported graph should compute: TorchSharp's eval-mode forward with the same normalization and output.</summary>
    public static Tensor Expected(ResNetModel model, Tensor input, OnnxExportOptions options)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor x = input;
        if (options.Normalization is { } n)
        {
            long[] perChannel = [1, n.Mean.Count, 1, 1];
            x = (x - tensor(n.Mean.ToArray()).view(perChannel)) / tensor(n.Std.ToArray()).view(perChannel);
        }
        Tensor y = options.Output switch
        {
            ResNetOutputKind.Embedding => model.ForwardEmbedding(x),
            ResNetOutputKind.Logits => model.forward(x),
            _ => model.forward(x).softmax(1),
        };
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>max|a - b| / max(1, max|a|).</summary>
    public static (double MaxDiff, double MaxAbs, double Relative) Compare(Tensor expected, float[] actual)
    {
        float[] a = expected.contiguous().data<float>().ToArray();
        Assert.Equal(a.Length, actual.Length);
        double maxDiff = 0, maxAbs = 0;
        for (int i = 0; i < a.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs((double)a[i] - actual[i]));
            maxAbs = Math.Max(maxAbs, Math.Abs((double)a[i]));
        }
        return (maxDiff, maxAbs, maxDiff / Math.Max(1, maxAbs));
    }

    /// <summary>Runs <paramref name="input"/> through both engines and asserts the agreement; returns the comparison.</summary>
    public static (double MaxDiff, double MaxAbs, double Relative) AssertMatches(ResNetModel model, ExportedOnnx onnx, Tensor input, OnnxExportOptions options)
    {
        using var expected = Expected(model, input, options);
        var (actual, shape) = onnx.Run(input);
        Assert.Equal(expected.shape, shape);
        var result = Compare(expected, actual);
        Assert.True(result.Relative <= Tolerance,
            $"ONNX Runtime and TorchSharp differ: max|diff| {result.MaxDiff:E3}, max|expected| {result.MaxAbs:E3}, relative {result.Relative:E3} > {Tolerance:E0}.");
        return result;
    }
}
