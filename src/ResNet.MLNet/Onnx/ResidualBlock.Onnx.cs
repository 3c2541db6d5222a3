using ResNet.MLNet.Onnx;

namespace ResNet.MLNet.Models;

internal sealed partial class ResidualBlock
{
    /// <summary>
    /// Adds the block to <paramref name="graph"/> as evaluation computes it; names start with <paramref name="prefix"/>
    /// (<c>layer1.0</c>). Mirrors <see cref="forward"/>.
    /// </summary>
    internal string EmitOnnx(OnnxGraphBuilder graph, string prefix, string x) =>
        preActivation ? EmitPreActivation(graph, prefix, x) : EmitPostActivation(graph, prefix, x);

    private string EmitPostActivation(OnnxGraphBuilder graph, string prefix, string x)
    {
        string h = x;
        for (int i = 0; i < convs.Length; i++)
        {
            h = OnnxLayers.Conv(graph, $"{prefix}.conv{i + 1}", convs[i], norms[i], h);
            if (i < convs.Length - 1)
                h = OnnxLayers.Relu(graph, $"{prefix}.relu{i + 1}", h);
        }
        h = EmitSqueezeExcitation(graph, prefix, h);
        if (hasShortcut)
            h = graph.Node("Add", $"{prefix}.add", [h, EmitShortcut(graph, prefix, x, x)]);
        return OnnxLayers.Relu(graph, $"{prefix}.relu", h);
    }

    private string EmitPreActivation(OnnxGraphBuilder graph, string prefix, string x)
    {
        // norms[0] acts on the block input, which an identity shortcut also carries: it stays a BatchNormalization.
        // norms[i] (i > 0) directly follows convs[i - 1] and is folded into it.
        string pre = OnnxLayers.Relu(graph, $"{prefix}.relu1", OnnxLayers.BatchNorm(graph, $"{prefix}.bn1", norms[0], x));
        string h = pre;
        for (int i = 0; i < convs.Length; i++)
        {
            if (i > 0)
                h = OnnxLayers.Relu(graph, $"{prefix}.relu{i + 1}", h);
            h = OnnxLayers.Conv(graph, $"{prefix}.conv{i + 1}", convs[i], i + 1 < norms.Length ? norms[i + 1] : null, h);
        }
        h = EmitSqueezeExcitation(graph, prefix, h);
        return hasShortcut ? graph.Node("Add", $"{prefix}.add", [h, EmitShortcut(graph, prefix, x, pre)]) : h;
    }

    private string EmitSqueezeExcitation(OnnxGraphBuilder graph, string prefix, string h) =>
        se is null ? h : OnnxLayers.SqueezeExcitation(graph, $"{prefix}.se", (SqueezeExcitation)se, h);

    /// <summary>The shortcut branch: identity and zero-padding act on <paramref name="x"/>, a projection on <paramref name="projectionInput"/>.</summary>
    private string EmitShortcut(OnnxGraphBuilder graph, string prefix, string x, string projectionInput)
    {
        string name = $"{prefix}.downsample";
        switch (downsample)
        {
            case null:
                return x;
            case ZeroPadShortcut pad:
                return OnnxLayers.ZeroPad(graph, name, pad, x);
            default:
                var layers = downsample.children().ToArray(); // conv (and BatchNorm, post-activation), as downsample.0 / downsample.1
                return OnnxLayers.Conv(graph, name + ".0", layers[0], layers.Length > 1 ? layers[1] : null, projectionInput);
        }
    }
}
