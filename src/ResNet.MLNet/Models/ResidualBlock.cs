using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ResNet.MLNet.Models;

/// <summary>
/// One residual block: basic (two 3x3 convolutions) or bottleneck (1x1, 3x3, 1x1), post- or pre-activation, with an
/// optional squeeze-and-excitation module and a projection, zero-padding or absent shortcut. Submodule names are
/// torchvision's (<c>conv1</c>, <c>bn1</c>, ..., <c>downsample.0</c>) and timm's (<c>se.fc1</c>).
/// </summary>
internal sealed partial class ResidualBlock : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor>[] convs;
    private readonly Module<Tensor, Tensor>[] norms;
    private readonly Module<Tensor, Tensor>? se;
    private readonly Module<Tensor, Tensor>? downsample;
    private readonly bool preActivation;
    private readonly bool hasShortcut;

    /// <summary>Builds a block taking <paramref name="inPlanes"/> channels to <c>planes x expansion</c> channels.</summary>
    public ResidualBlock(ResNetOptions options, int inPlanes, int planes, int stride) : base(nameof(ResidualBlock))
    {
        preActivation = options.PreActivation;
        int outPlanes = planes * options.Expansion;
        if (options.Block == BlockKind.Basic)
        {
            convs = [Layers.Conv3x3(inPlanes, planes, stride), Layers.Conv3x3(planes, planes)];
            norms = [Norm(preActivation ? inPlanes : planes), Norm(planes)];
        }
        else
        {
            int width = planes * options.WidthPerGroup / 64 * options.Groups;
            convs = [Layers.Conv1x1(inPlanes, width), Layers.Conv3x3(width, width, stride, options.Groups), Layers.Conv1x1(width, outPlanes)];
            norms = preActivation ? [Norm(inPlanes), Norm(width), Norm(width)] : [Norm(width), Norm(width), Norm(outPlanes)];
        }
        for (int i = 0; i < convs.Length; i++)
        {
            // torchvision registers conv1, bn1, conv2, bn2, ...: the state_dict key order follows.
            register_module($"conv{i + 1}", convs[i]);
            register_module($"bn{i + 1}", norms[i]);
        }
        if (options.SqueezeExcitation)
        {
            se = new SqueezeExcitation(outPlanes, options.SqueezeExcitationReduction);
            register_module("se", se);
        }

        hasShortcut = options.Shortcut != ShortcutKind.None;
        if (stride != 1 || inPlanes != outPlanes)
        {
            downsample = options.Shortcut switch
            {
                ShortcutKind.Projection when preActivation => nn.Sequential(Layers.Conv1x1(inPlanes, outPlanes, stride)),
                ShortcutKind.Projection => nn.Sequential(Layers.Conv1x1(inPlanes, outPlanes, stride), Norm(outPlanes)),
                ShortcutKind.ZeroPad => new ZeroPadShortcut(inPlanes, outPlanes, stride),
                _ => null,
            };
            if (downsample is not null)
                register_module("downsample", downsample);
        }
    }

    /// <summary>The BatchNorm (or, pre-activation, the convolution) whose weight zero-init-residual sets to zero.</summary>
    internal Module<Tensor, Tensor> LastResidualLayer => preActivation ? convs[^1] : norms[^1];

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor output = preActivation ? ForwardPreActivation(x) : ForwardPostActivation(x);
        return output.MoveToOuterDisposeScope();
    }

    private Tensor ForwardPostActivation(Tensor x)
    {
        Tensor h = x;
        for (int i = 0; i < convs.Length; i++)
        {
            h = norms[i].call(convs[i].call(h));
            if (i < convs.Length - 1)
                h = h.relu_();
        }
        if (se is not null)
            h = se.call(h);
        if (hasShortcut)
            h = h.add_(downsample is null ? x : downsample.call(x));
        return h.relu_();
    }

    private Tensor ForwardPreActivation(Tensor x)
    {
        Tensor pre = norms[0].call(x).relu_();
        Tensor h = convs[0].call(pre);
        for (int i = 1; i < convs.Length; i++)
            h = convs[i].call(norms[i].call(h).relu_());
        if (se is not null)
            h = se.call(h);
        if (!hasShortcut)
            return h;
        // A projection sees the pre-activated input; identity and zero-padding shortcuts carry x itself.
        Tensor shortcut = downsample switch
        {
            null => x,
            ZeroPadShortcut pad => pad.call(x),
            _ => downsample.call(pre),
        };
        return h.add_(shortcut);
    }

    private static Module<Tensor, Tensor> Norm(int channels) => nn.BatchNorm2d(channels);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var m in convs.Concat(norms))
                m.Dispose();
            se?.Dispose();
            downsample?.Dispose();
        }
        base.Dispose(disposing);
    }
}
