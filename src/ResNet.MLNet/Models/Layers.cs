using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ResNet.MLNet.Models;

/// <summary>Convolution factories with torchvision's defaults (no bias) and the shortcut modules.</summary>
internal static class Layers
{
    public static Module<Tensor, Tensor> Conv3x3(int inPlanes, int outPlanes, int stride = 1, int groups = 1) =>
        nn.Conv2d(inPlanes, outPlanes, kernel_size: 3, stride: stride, padding: 1, groups: groups, bias: false);

    /// <summary>
    /// A 1x1 convolution. With stride 2 it subsamples first and convolves with stride 1: the same function, and the
    /// same <c>weight</c> key, but it avoids oneDNN's crash in the strided 1x1 backward (README, "Platform notes": oneDNN on AVX-512 CPUs).
    /// </summary>
    public static Module<Tensor, Tensor> Conv1x1(int inPlanes, int outPlanes, int stride = 1) =>
        stride == 1
            ? nn.Conv2d(inPlanes, outPlanes, kernel_size: 1, bias: false)
            : new SubsampledConv1x1(inPlanes, outPlanes, stride);
}

/// <summary>1x1 convolution with stride s computed as <c>x[:, :, ::s, ::s]</c> followed by a 1x1 stride-1 convolution.</summary>
internal sealed class SubsampledConv1x1 : Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly long stride;

    public SubsampledConv1x1(int inPlanes, int outPlanes, int stride) : base(nameof(SubsampledConv1x1))
    {
        this.stride = stride;
        weight = new Parameter(empty(outPlanes, inPlanes, 1, 1));
        nn.init.kaiming_uniform_(weight, a: Math.Sqrt(5)); // nn.Conv2d's default; ResNet re-initializes all convolutions
        RegisterComponents();
    }

    /// <summary>The 1x1 kernel, (out, in, 1, 1). For export: in ONNX this is a plain Conv with this stride.</summary>
    internal Parameter Weight => weight;

    /// <summary>The spatial stride.</summary>
    internal long Stride => stride;

    public override Tensor forward(Tensor x)
    {
        using var sub = x[TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Slice(null, null, stride), TensorIndex.Slice(null, null, stride)];
        return nn.functional.conv2d(sub, weight);
    }
}

/// <summary>The paper's option A shortcut: subsample spatially and pad the new channels with zeros. No parameters.</summary>
internal sealed class ZeroPadShortcut : Module<Tensor, Tensor>
{
    private readonly long stride;
    private readonly long padBefore;
    private readonly long padAfter;

    public ZeroPadShortcut(int inPlanes, int outPlanes, int stride) : base(nameof(ZeroPadShortcut))
    {
        this.stride = stride;
        padBefore = (outPlanes - inPlanes) / 2;
        padAfter = outPlanes - inPlanes - padBefore;
    }

    /// <summary>The spatial subsampling step.</summary>
    internal long Stride => stride;

    /// <summary>Zero channels added before the input's channels.</summary>
    internal long PadBefore => padBefore;

    /// <summary>Zero channels added after the input's channels.</summary>
    internal long PadAfter => padAfter;

    public override Tensor forward(Tensor x)
    {
        using var sub = stride == 1 ? x.alias() : x[TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Slice(null, null, stride), TensorIndex.Slice(null, null, stride)];
        return nn.functional.pad(sub, [0, 0, 0, 0, padBefore, padAfter]);
    }
}

/// <summary>Squeeze-and-excitation (Hu et al. 2018) with timm's <c>SEModule</c> layout: <c>fc1</c>, ReLU, <c>fc2</c>, sigmoid gate.</summary>
internal sealed class SqueezeExcitation : Module<Tensor, Tensor>
{
    private readonly Conv2d fc1;
    private readonly Conv2d fc2;

    public SqueezeExcitation(int channels, int reduction) : base(nameof(SqueezeExcitation))
    {
        int reduced = ReducedChannels(channels, reduction);
        fc1 = nn.Conv2d(channels, reduced, kernel_size: 1, bias: true);
        fc2 = nn.Conv2d(reduced, channels, kernel_size: 1, bias: true);
        RegisterComponents();
    }

    /// <summary>The reducing 1x1 convolution.</summary>
    internal Conv2d Fc1 => fc1;

    /// <summary>The expanding 1x1 convolution.</summary>
    internal Conv2d Fc2 => fc2;

    /// <summary>timm's <c>make_divisible(channels / reduction, 8)</c> without the round limit.</summary>
    public static int ReducedChannels(int channels, int reduction)
    {
        double v = (double)channels / reduction;
        return Math.Max(8, (int)(v + 4) / 8 * 8);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var s = x.mean([2, 3], keepdim: true);
        s = nn.functional.relu(fc1.call(s));
        s = fc2.call(s).sigmoid();
        return x.mul(s).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            fc1.Dispose();
            fc2.Dispose();
        }
        base.Dispose(disposing);
    }
}
