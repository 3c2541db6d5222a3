using ResNet.MLNet.Onnx;

namespace ResNet.MLNet.Models;

public sealed partial class ResNetModel
{
    /// <summary>
    /// Adds the network to <paramref name="graph"/> after the value <paramref name="x"/>, as evaluation computes it
    /// (BatchNorm folded into the convolution before it where there is one); returns the value of <paramref name="output"/>.
    /// Mirrors <see cref="forward"/>: stem, stages, final pre-activation norm, pooling, head.
    /// </summary>
    internal string EmitOnnx(OnnxGraphBuilder graph, string x, ResNetOutputKind output)
    {
        string h = OnnxLayers.Conv(graph, "conv1", conv1, bn1, x);
        if (bn1 is not null)
            h = OnnxLayers.Relu(graph, "relu", h);
        if (maxpool is not null)
            h = OnnxLayers.MaxPool(graph, "maxpool", maxpool, h);
        for (int s = 0; s < stages.Length; s++)
        {
            foreach (var (index, block) in stages[s].named_children())
                h = ((ResidualBlock)block).EmitOnnx(graph, $"layer{s + 1}.{index}", h);
        }
        if (norm is not null)
            h = OnnxLayers.Relu(graph, "norm.relu", OnnxLayers.BatchNorm(graph, "norm", norm, h));
        h = graph.Node("GlobalAveragePool", "pool", [h]);
        h = graph.Node("Flatten", "features", [h], OnnxAttribute.Int("axis", 1));
        if (output == ResNetOutputKind.Embedding)
            return h;
        if (fc is null)
            throw new ArgumentException($"'{Options.Name}' has no classifier head; export {nameof(ResNetOutputKind.Embedding)}.", nameof(output));
        h = OnnxLayers.Linear(graph, "fc", fc, h);
        return output == ResNetOutputKind.Probabilities
            ? graph.Node("Softmax", "probabilities", [h], OnnxAttribute.Int("axis", 1))
            : h;
    }
}
