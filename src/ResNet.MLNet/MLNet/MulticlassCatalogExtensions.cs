using Microsoft.ML;
using ResNet.MLNet.Models;

namespace ResNet.MLNet;

/// <summary>ResNet trainers on <c>mlContext.MulticlassClassification.Trainers</c>.</summary>
public static class MulticlassCatalogExtensions
{
    /// <summary>Fine-tunes a ResNet image classifier with every option of <see cref="ResNetClassifierOptions"/>.</summary>
    public static ResNetClassifierTrainer ResNetClassifier(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        ResNetClassifierOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new ResNetClassifierTrainer(options);
    }

    /// <summary>Fine-tunes a ResNet image classifier on an image column and a key (or string) label column.</summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">Label column (key, or string). Default "Label".</param>
    /// <param name="imageColumnName">Image column (from <c>LoadImages</c>). Default "Image".</param>
    /// <param name="architecture">Network to build (a <see cref="ResNetArchitecture"/> converts implicitly). Default null: the weights' architecture, else ResNet-50.</param>
    /// <param name="weightsPath">Pretrained weights: a registry name (<c>resnet18.mlnet_in1k</c>) or a file; null trains from scratch.</param>
    /// <param name="epochs">Epochs. Default 5.</param>
    /// <param name="batchSize">Images per step. Default 32.</param>
    /// <param name="learningRate">Peak learning rate (AdamW, one-cycle). Default 1e-3.</param>
    /// <param name="imageSize">Network input size in pixels. Default null: the weights' (224 for ImageNet weights).</param>
    public static ResNetClassifierTrainer ResNetClassifier(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = "Label", string imageColumnName = "Image", ResNetOptions? architecture = null,
        string? weightsPath = null, int epochs = 5, int batchSize = 32, float learningRate = 1e-3f, int? imageSize = null)
    {
        var options = new ResNetClassifierOptions
        {
            LabelColumnName = labelColumnName,
            ImageColumnName = imageColumnName,
            Architecture = architecture,
            WeightsPath = weightsPath,
        };
        options.Training.Epochs = epochs;
        options.Training.BatchSize = batchSize;
        options.Training.LearningRate = learningRate;
        options.Training.ImageSize = imageSize;
        return catalog.ResNetClassifier(options);
    }
}
