using ResNet.MLNet.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ResNet.MLNet.Onnx;

/// <summary>
/// ONNX nodes for the layers a ResNet is made of. Values are read as evaluation uses them (BatchNorm's running
/// statistics), whatever mode the module is in; initializers are named after the module (<c>layer1.0.conv1.weight</c>).
/// </summary>
internal static class OnnxLayers
{
    /// <summary>
    /// A convolution (<see cref="Conv2d"/>, or <see cref="SubsampledConv1x1"/> as the strided 1x1 Conv it equals), with the
    /// BatchNorm that follows it, if any, folded into its weight and bias.
    /// </summary>
    public static string Conv(OnnxGraphBuilder graph, string name, nn.Module conv, nn.Module? followingNorm, string x)
    {
        var (weight, bias, attributes) = ConvParameters(name, conv);
        using var scope = NewDisposeScope();
        // Fold in float64: W' = W * s, b' = (b - mean) * s + beta with s = gamma / sqrt(var + eps).
        Tensor w = weight.detach().to(ScalarType.Float64);
        Tensor? b = bias?.detach().to(ScalarType.Float64);
        if (followingNorm is not null)
        {
            var (scale, shift) = NormAffine(name, followingNorm);
            w = w * scale.view(-1, 1, 1, 1);
            b = b is null ? shift : b * scale + shift;
        }
        var inputs = new List<string> { x, graph.Constant(name + ".weight", w) };
        if (b is not null)
            inputs.Add(graph.Constant(name + ".bias", b));
        return graph.Node("Conv", name, inputs, attributes);
    }

    /// <summary>A BatchNorm that cannot be folded into a convolution (pre-activation), as BatchNormalization in inference mode.</summary>
    public static string BatchNorm(OnnxGraphBuilder graph, string name, nn.Module norm, string x)
    {
        var bn = AsBatchNorm(name, norm);
        return graph.Node("BatchNormalization", name,
            [x, graph.Constant(name + ".weight", bn.weight!), graph.Constant(name + ".bias", bn.bias!),
             graph.Constant(name + ".running_mean", bn.running_mean!), graph.Constant(name + ".running_var", bn.running_var!)],
            OnnxAttribute.Float("epsilon", (float)bn.eps));
    }

    public static string Relu(OnnxGraphBuilder graph, string name, string x) => graph.Node("Relu", name, [x]);

    public static string MaxPool(OnnxGraphBuilder graph, string name, nn.Module module, string x)
    {
        if (module is not MaxPool2d pool)
            throw Unsupported(name, module);
        long[] stride = pool.stride ?? pool.kernel_size;
        return graph.Node("MaxPool", name, [x],
            OnnxAttribute.Ints("kernel_shape", pool.kernel_size),
            OnnxAttribute.Ints("strides", stride),
            OnnxAttribute.Ints("pads", Pads(pool.padding ?? [0, 0])),
            OnnxAttribute.Ints("dilations", pool.dilation ?? [1, 1]),
            OnnxAttribute.Int("ceil_mode", pool.ceil_mode ? 1 : 0));
    }

    /// <summary>The option A shortcut: a strided Slice of the spatial axes, then a Pad of the channel axis with zeros.</summary>
    public static string ZeroPad(OnnxGraphBuilder graph, string name, ZeroPadShortcut shortcut, string x)
    {
        string h = x;
        if (shortcut.Stride != 1)
        {
            h = graph.Node("Slice", name + ".subsample",
                [x, graph.Int64Constant(name + ".starts", 0, 0), graph.Int64Constant(name + ".ends", long.MaxValue, long.MaxValue),
                 graph.Int64Constant(name + ".axes", 2, 3), graph.Int64Constant(name + ".steps", shortcut.Stride, shortcut.Stride)]);
        }
        // Pad's pads: [x1_begin, x2_begin, x3_begin, x4_begin, x1_end, ...] over (N, C, H, W).
        return graph.Node("Pad", name,
            [h, graph.Int64Constant(name + ".pads", 0, shortcut.PadBefore, 0, 0, 0, shortcut.PadAfter, 0, 0)]);
    }

    /// <summary>Squeeze-and-excitation: GlobalAveragePool, Conv, Relu, Conv, Sigmoid, then Mul with the input.</summary>
    public static string SqueezeExcitation(OnnxGraphBuilder graph, string name, SqueezeExcitation se, string x)
    {
        string s = graph.Node("GlobalAveragePool", name + ".pool", [x]);
        s = Relu(graph, name + ".relu", Conv(graph, name + ".fc1", se.Fc1, null, s));
        s = graph.Node("Sigmoid", name + ".gate", [Conv(graph, name + ".fc2", se.Fc2, null, s)]);
        return graph.Node("Mul", name, [x, s]);
    }

    /// <summary>A linear layer on (N, in) as Gemm with the (out, in) weight transposed.</summary>
    public static string Linear(OnnxGraphBuilder graph, string name, nn.Module module, string x)
    {
        if (module is not TorchSharp.Modules.Linear linear)
            throw Unsupported(name, module);
        var inputs = new List<string> { x, graph.Constant(name + ".weight", linear.weight!) };
        if (linear.bias is not null)
            inputs.Add(graph.Constant(name + ".bias", linear.bias));
        return graph.Node("Gemm", name, inputs, OnnxAttribute.Int("transB", 1));
    }

    private static (Tensor Weight, Tensor? Bias, OnnxAttribute[] Attributes) ConvParameters(string name, nn.Module module)
    {
        switch (module)
        {
            case SubsampledConv1x1 sub:
                return (sub.Weight, null, ConvAttributes(sub.Weight, [sub.Stride, sub.Stride], [0, 0], [1, 1], 1));
            case Conv2d conv when conv.padding is not null && conv.padding_mode == TorchSharp.PaddingModes.Zeros:
                return (conv.weight!, conv.bias, ConvAttributes(conv.weight!, conv.stride, conv.padding, conv.dilation, conv.groups));
            default:
                throw Unsupported(name, module);
        }
    }

    private static OnnxAttribute[] ConvAttributes(Tensor weight, long[] strides, long[] padding, long[] dilations, long groups) =>
    [
        OnnxAttribute.Ints("kernel_shape", weight.shape[2..]),
        OnnxAttribute.Ints("strides", strides),
        OnnxAttribute.Ints("pads", Pads(padding)),
        OnnxAttribute.Ints("dilations", dilations),
        OnnxAttribute.Int("group", groups),
    ];

    /// <summary>torch's symmetric (padH, padW) as ONNX's [top, left, bottom, right].</summary>
    private static long[] Pads(long[] padding) => [padding[0], padding[^1], padding[0], padding[^1]];

    /// <summary>Eval-mode BatchNorm as y = x * scale + shift per channel, in float64.</summary>
    private static (Tensor Scale, Tensor Shift) NormAffine(string name, nn.Module norm)
    {
        var bn = AsBatchNorm(name, norm);
        Tensor mean = bn.running_mean!.detach().to(ScalarType.Float64);
        Tensor scale = bn.weight!.detach().to(ScalarType.Float64) / (bn.running_var!.detach().to(ScalarType.Float64) + bn.eps).sqrt();
        Tensor shift = bn.bias!.detach().to(ScalarType.Float64) - mean * scale;
        return (scale, shift);
    }

    private static BatchNorm2d AsBatchNorm(string name, nn.Module norm) =>
        norm is BatchNorm2d { running_mean: not null, running_var: not null, weight: not null, bias: not null } bn
            ? bn
            : throw new NotSupportedException($"The normalization at '{name}' is a {norm.GetType().Name}; ONNX export supports BatchNorm2d with affine parameters and running statistics.");

    private static NotSupportedException Unsupported(string name, nn.Module module) =>
        new($"ONNX export does not support module '{name}' of type {module.GetType().Name}.");
}
