namespace ResNet.MLNet;

/// <summary>What a network emits per image: in the featurizer, the classifier and the ONNX export alike.</summary>
public enum ResNetOutputKind
{
    /// <summary>The global-average-pooled embedding (512 for ResNet-18/34, 2048 for ResNet-50/101/152).</summary>
    Embedding,
    /// <summary>Class probabilities (softmax over the head's logits).</summary>
    Probabilities,
    /// <summary>The head's logits.</summary>
    Logits,
    /// <summary>A stage's feature map, flattened in C x H x W order (see <c>Stage</c> options). Not exported to ONNX.</summary>
    StageFeatureMap,
}
