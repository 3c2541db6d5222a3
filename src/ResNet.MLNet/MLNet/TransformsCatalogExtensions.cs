using Microsoft.ML;
using ResNet.MLNet.Models;

namespace ResNet.MLNet;

/// <summary>ResNet components on <see cref="TransformsCatalog"/> (<c>mlContext.Transforms</c>).</summary>
public static class TransformsCatalogExtensions
{
    /// <summary>
    /// Turns an image column (from <c>LoadImages</c>) into ResNet embeddings: a known-size <c>Vector&lt;Single&gt;</c>
    /// (512 for ResNet-18/34, 2048 for ResNet-50/101/152).
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">Name of the embedding column.</param>
    /// <param name="inputColumnName">Image column; null means the same name as <paramref name="outputColumnName"/>.</param>
    /// <param name="architecture">Network to build (a <see cref="ResNetArchitecture"/> converts implicitly). Default null: the weights' architecture, else ResNet-50.</param>
    /// <param name="weightsPath">
    /// Pretrained weights: a registry name (<c>resnet18.mlnet_in1k</c>, <c>resnet50.tv2_in1k</c>) or a file (.pth, .safetensors,
    /// .onnx, TorchSharp format); they bring their architecture and preprocessing. Null for deterministic random weights (not pretrained).
    /// </param>
    public static ResNetFeaturizerEstimator ResNetFeaturizer(this TransformsCatalog catalog, string outputColumnName, string? inputColumnName = null,
        ResNetOptions? architecture = null, string? weightsPath = null) =>
        catalog.ResNetFeaturizer(new ResNetFeaturizerOptions
        {
            OutputColumnName = outputColumnName,
            InputColumnName = inputColumnName,
            Architecture = architecture,
            WeightsPath = weightsPath,
        });

    /// <summary>Turns an image column into ResNet features, with every option of <see cref="ResNetFeaturizerOptions"/>.</summary>
    public static ResNetFeaturizerEstimator ResNetFeaturizer(this TransformsCatalog catalog, ResNetFeaturizerOptions options) =>
        new(catalog, options);
}
