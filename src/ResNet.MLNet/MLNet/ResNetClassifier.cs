using Microsoft.ML;
using Microsoft.ML.Data;
using ResNet.MLNet.Models;
using ResNet.MLNet.Training;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet;

/// <summary>
/// Fine-tunes a ResNet on an image column and a label column, as an ML.NET multiclass trainer. The fitted
/// <see cref="ResNetClassifierTransformer"/> adds <c>Score</c> (class probabilities) and <c>PredictedLabel</c> (a key whose
/// key values are the class names), so <c>MulticlassClassification.Evaluate</c> and <c>MapKeyToValue</c> work unchanged.
/// </summary>
/// <remarks>
/// | | |
/// |---|---|
/// | Machine learning task | Multiclass classification |
/// | Is normalization required? | No (the network normalizes with <see cref="Preprocessing.Mean"/> / <see cref="Preprocessing.Std"/>) |
/// | Input columns | Image (from <c>LoadImages</c>); label: key or string |
/// | Output columns | Score: known-size vector of float; PredictedLabel: key |
/// | Required NuGet in addition to Microsoft.ML | ResNet.MLNet, a libtorch backend (for training only) |
/// | Saved models need | Microsoft.ML, Microsoft.ML.ImageAnalytics, Microsoft.ML.OnnxTransformer |
/// </remarks>
public sealed class ResNetClassifierTrainer : IEstimator<ResNetClassifierTransformer>
{
    private const string Component = "ResNetClassifier";
    private readonly MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog;
    private readonly ResNetClassifierOptions options;

    internal ResNetClassifierTrainer(MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, ResNetClassifierOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        this.catalog = catalog;
        this.options = options;
    }

    /// <summary>Checks the image and label columns and adds <c>Score</c> and <c>PredictedLabel</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">"Schema mismatch for input column 'X': expected ..., got ..."</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ImagePipeline.CheckImageColumn(inputSchema, options.ImageColumnName);
        LabelColumn.Check(inputSchema, options.LabelColumnName);
        var shape = SchemaShapes.With(inputSchema, SchemaShapes.Column(options.ScoreColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single));
        return SchemaShapes.With(shape, SchemaShapes.Column(options.PredictedLabelColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, isKey: true));
    }

    /// <summary>Loads the images, trains the network and returns the fitted classifier.</summary>
    /// <exception cref="InvalidDataException">Fewer than two classes, a class without images, a missing label or an unreadable image (named).</exception>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite (epoch and step named).</exception>
    public ResNetClassifierTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        GetOutputSchema(SchemaShapes.Of(input.Schema));
        long seed = options.Seed ?? MLContextSeed.From(catalog, Component);
        var training = options.Training;
        var ml = new MLContext(seed: 0); // builds the (randomness-free) ML.NET image and key transforms
        int channels = training.Preprocessing.Mean.Count;

        var classes = options.InitialModel?.ClassNames ?? LabelColumn.ClassNames(input, options.LabelColumnName);
        if (classes.Count < 2)
            throw new InvalidDataException($"Label column '{options.LabelColumnName}' has {classes.Count} class(es); a classifier needs at least two.");
        using var data = LoadDataset(ml, input, classes, "training");
        var (train, validation) = SplitValidation(ml, data, classes, seed);
        try
        {
            var model = BuildModel(classes.Count, channels, seed);
            try
            {
                var result = ResNetTrainer.Train(model, train, validation, CopyWithSeed(training, seed));
                return new ResNetClassifierTransformer(ml.Transforms, options, input, model, options.Model is null, classes, result);
            }
            catch
            {
                if (options.Model is null)
                    model.Dispose();
                throw;
            }
        }
        finally
        {
            if (!ReferenceEquals(train, data))
                train.Dispose();
            validation?.Dispose();
        }
    }

    private InMemoryImageDataset LoadDataset(MLContext ml, IDataView view, IReadOnlyList<string> classes, string role)
    {
        var dataset = ClassifierData.Load(ml.Transforms, view, options.ImageColumnName, options.LabelColumnName, classes,
            options.Training.Preprocessing.ImageSize, options.ResizeMode, options.Training.Preprocessing.Mean.Count, role, options.ImageLimits);
        var present = dataset.Labels.ToHashSet();
        var empty = classes.Where((_, k) => !present.Contains(k)).ToList();
        if (role == "training" && empty.Count > 0)
            throw new InvalidDataException($"Class(es) {string.Join(", ", empty.Select(c => $"'{c}'"))} have no images in the training data.");
        return dataset;
    }

    private (InMemoryImageDataset Train, InMemoryImageDataset? Validation) SplitValidation(MLContext ml, InMemoryImageDataset data,
        IReadOnlyList<string> classes, long seed)
    {
        if (options.ValidationSet is { } validationView)
            return (data, LoadDataset(ml, validationView, classes, "validation"));
        if (options.ValidationFraction > 0)
            return data.SplitStratified(options.ValidationFraction, seed);
        return (data, null);
    }

    private Models.ResNet BuildModel(int numClasses, int channels, long seed)
    {
        Models.ResNet model;
        if (options.Model is { } given)
        {
            model = given;
            if (model.NumClasses != numClasses)
                model.ResetClassifier(numClasses);
        }
        else
        {
            model = ResNetModels.Build(ResNetModels.Options(options.Architecture) with { NumClasses = numClasses, InChannels = channels }, seed);
        }
        try
        {
            if (options.WeightsPath is not null)
                WeightsLoader.Load(model, options.WeightsPath);
            if (options.InitialModel is { } initial)
                WeightsLoader.Load(model, initial.NamedWeights(), WeightsLoadOptions.Exact, "the initial model");
        }
        catch
        {
            if (options.Model is null)
                model.Dispose();
            throw;
        }
        return model;
    }

    private static TrainingOptions CopyWithSeed(TrainingOptions training, long seed)
    {
        var copy = training.Copy();
        copy.Seed = seed;
        return copy;
    }
}

/// <summary>
/// A fine-tuned ResNet classifier in an ML.NET pipeline: adds <c>Score</c> and <c>PredictedLabel</c>. Saved with
/// <c>mlContext.Model.Save</c>, it reloads in plain ML.NET (image transforms, an ONNX model, key mapping) with equal
/// outputs. Dispose it to release the network.
/// </summary>
public sealed class ResNetClassifierTransformer : ImageModelTransformer
{
    private readonly Models.ResNet model;

    internal ResNetClassifierTransformer(TransformsCatalog transforms, ResNetClassifierOptions options, IDataView input, Models.ResNet model,
        bool ownsModel, IReadOnlyList<string> classes, TrainingResult result)
        : this(transforms, options, input, model, ownsModel, classes, result,
            ImageModelEngines.Create(model, ownsModel: false, new ImageModelSpec(options.Training.Preprocessing.ImageSize, options.Training.Preprocessing.Mean,
                options.Training.Preprocessing.Std, ResNetOutputKind.Logits, 4, false, options.Engine, options.Training.Device), LogitsColumn(options)))
    {
    }

    private ResNetClassifierTransformer(TransformsCatalog transforms, ResNetClassifierOptions options, IDataView input, Models.ResNet model,
        bool ownsModel, IReadOnlyList<string> classes, TrainingResult result, ImageModelEngine engine)
        : base(ImageModelEngines.BuildChains(transforms, input, options.ImageColumnName, LogitsColumn(options), engine,
                options.Training.Preprocessing.ImageSize, options.ResizeMode, options.Training.BatchSize, "ImagePath", options.ImageLimits, options.Training.Preprocessing.Mean.Count,
                _ => MulticlassHead.Create(classes, LogitsColumn(options), options.ScoreColumnName, options.PredictedLabelColumnName),
                LogitsColumn(options)),
            ownsModel ? new CompositeDisposable(engine, model) : engine)
    {
        this.model = model;
        ClassNames = classes;
        Training = result;
        preprocessing = options.Training.Preprocessing;
    }

    private readonly Preprocessing preprocessing;

    /// <summary>The class names, in key order (key value k + 1 is class k).</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The training history: loss and accuracy per epoch, best epoch, early stop or cancellation.</summary>
    public TrainingResult Training { get; }

    /// <summary>The trained network (owned by this transformer unless it was given in the options).</summary>
    public Models.ResNet Network => model;

    /// <summary>
    /// Writes the trained weights (.safetensors, .pth, or TorchSharp format by extension); safetensors files carry the
    /// architecture, class count, mean/std and input size as metadata.
    /// </summary>
    public void SaveWeights(string path) => WeightsFile.Write(path, NamedWeights(), new WeightsMetadata
    {
        Architecture = model.Options.Name,
        NumClasses = ClassNames.Count,
        Mean = preprocessing.Mean,
        Std = preprocessing.Std,
        InputSize = [model.Options.InChannels, preprocessing.ImageSize, preprocessing.ImageSize],
    }.ToDictionary());

    internal IReadOnlyList<NamedTensor> NamedWeights() => NamedTensor.FromModel(model);

    private static string LogitsColumn(ResNetClassifierOptions options) => $"{options.ScoreColumnName}.resnet.logits";

    private sealed class CompositeDisposable(params IDisposable[] parts) : IDisposable
    {
        public void Dispose()
        {
            foreach (var part in parts)
                part.Dispose();
        }
    }
}
