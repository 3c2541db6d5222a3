using Microsoft.ML;
using Microsoft.ML.Data;
using ResNet.MLNet.Models;
using ResNet.MLNet.Weights;
using static TorchSharp.torch;

namespace ResNet.MLNet;

/// <summary>
/// Estimator of <see cref="ResNetFeaturizerTransformer"/>: turns an image column into ResNet embeddings (or stage
/// feature maps, logits, probabilities). It trains nothing; <see cref="Fit"/> validates the schema, builds the network,
/// loads the weights and prepares the inference engine.
/// </summary>
/// <remarks>
/// | | |
/// |---|---|
/// | Does this estimator need to look at the data to train its parameters? | No |
/// | Input column data type | Image (from <c>LoadImages</c>) |
/// | Output column data type | Known-sized vector of <see cref="float"/> |
/// | Required NuGet in addition to Microsoft.ML | ResNet.MLNet, a libtorch backend (at fit time only) |
/// | Saved models need | Microsoft.ML, Microsoft.ML.ImageAnalytics, Microsoft.ML.OnnxTransformer |
/// </remarks>
public sealed class ResNetFeaturizerEstimator : IEstimator<ResNetFeaturizerTransformer>
{
    private readonly TransformsCatalog catalog;
    private readonly ResNetFeaturizerOptions options;

    internal ResNetFeaturizerEstimator(TransformsCatalog catalog, ResNetFeaturizerOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        this.catalog = catalog;
        this.options = options;
    }

    private string InputColumn => options.InputColumnName ?? options.OutputColumnName;

    /// <summary>Checks that the input is an image column and adds the output vector column.</summary>
    /// <exception cref="ArgumentOutOfRangeException">"Schema mismatch for input column 'X': expected Image, got ..."</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ImagePipeline.CheckImageColumn(name => SchemaShapes.Find(inputSchema, name), InputColumn);
        return SchemaShapes.WithFloatVector(inputSchema, options.OutputColumnName);
    }

    /// <summary>Builds the featurizer. Without weights, the network is initialized from <see cref="ResNetFeaturizerOptions.Seed"/> (not pretrained).</summary>
    public ResNetFeaturizerTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ImagePipeline.CheckImageColumn(name => SchemaShapes.Find(input.Schema, name), InputColumn);

        var setup = NetworkSetup.Create(options.Architecture, options.Model, options.WeightsPath, options.Input,
            options.ImageSize, numClasses: null, options.Seed, ResNetModels.Options(ResNetArchitecture.ResNet50))
            .ForMLNetTransforms();
        try
        {
            var engine = ImageModelEngine.Create(setup.Model, setup.OwnsModel,
                new ImageModelSpec(setup.Input, options.Output, options.Stage, options.L2Normalize, options.Engine, options.Device)
                    .WithPrecision(options.Precision, options.Int8, catalog, input, InputColumn, options.ImagePathColumnName, options.ImageLimits),
                options.OutputColumnName);
            if (setup.Report is null)
                new ComponentLog(options.Log, "ResNetFeaturizer").Warning(
                    $"The featurizer's {engine.ArchitectureName} has no pretrained weights (WeightsPath is not set); its features come from a deterministic " +
                    $"random initialization (Seed = {options.Seed}) and are not pretrained. Set WeightsPath to a registry name such as resnet18.mlnet_in1k.");
            return new ResNetFeaturizerTransformer(catalog, options, InputColumn, input, engine, setup);
        }
        catch
        {
            if (setup.OwnsModel)
                setup.Model.Dispose();
            throw;
        }
    }
}

/// <summary>
/// Adds ResNet embeddings of an image column to each row, scoring rows in batches. Saved with
/// <c>mlContext.Model.Save</c>, it reloads in plain ML.NET as image transforms plus an ONNX model with the same output.
/// Dispose it to release the network.
/// </summary>
public sealed class ResNetFeaturizerTransformer : ImageModelTransformer
{
    internal ResNetFeaturizerTransformer(TransformsCatalog catalog, ResNetFeaturizerOptions options, string inputColumn, IDataView input,
        ImageModelEngine engine, NetworkSetup setup)
        : base(ImageModelChains.BuildChains(catalog, input, inputColumn, options.OutputColumnName, engine,
            setup.Input, options.BatchSize, options.ImagePathColumnName, options.ImageLimits), engine)
    {
        LoadingReport = setup.Report;
        Input = setup.Input;
        Weights = setup.Weights?.Pretrained;
        OutputSize = engine.Scorer.OutputLength;
    }

    /// <summary>How the pretrained weights were loaded; null when the network was not given weights.</summary>
    public LoadingReport? LoadingReport { get; }

    /// <summary>
    /// The input description the featurizer applies: the weights' own unless overridden, as ML.NET's image transforms
    /// compute it (ML.NET's resampling straight to the input size); <see cref="Data.ImagePreprocessing"/> with it gives
    /// the same pixels.
    /// </summary>
    public ImageModelInput Input { get; }

    /// <summary>The registry entry of the weights, when they were named by one.</summary>
    public PretrainedWeights? Weights { get; }

    /// <summary>Whether the features come from pretrained weights.</summary>
    public bool IsPretrained => LoadingReport is not null;

    /// <summary>Length of the output vector (512 for ResNet-18/34 embeddings, 2048 for ResNet-50/101/152).</summary>
    public int OutputSize { get; }
}

/// <summary>The featurizer's name in logs and seeds.</summary>
internal static class ResNetFeaturizer;
