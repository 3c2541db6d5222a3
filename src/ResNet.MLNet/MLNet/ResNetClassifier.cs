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
/// | Is normalization required? | No (the network normalizes as its <see cref="ImageModelInput"/> says) |
/// | Input columns | Image (from <c>LoadImages</c>); label: key or string |
/// | Output columns | Score: known-size vector of float; PredictedLabel: key |
/// | Required NuGet in addition to Microsoft.ML | ResNet.MLNet, a libtorch backend (for training only) |
/// | Saved models need | Microsoft.ML, Microsoft.ML.ImageAnalytics, Microsoft.ML.OnnxTransformer |
/// </remarks>
public sealed class ResNetClassifierTrainer : IEstimator<ResNetClassifierTransformer>
{
    private const string Component = "ResNetClassifier";
    private readonly ResNetClassifierOptions options;

    internal ResNetClassifierTrainer(ResNetClassifierOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        this.options = options;
    }

    /// <summary>Checks the image and label columns and adds <c>Score</c> and <c>PredictedLabel</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">"Schema mismatch for input column 'X': expected ..., got ..."</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        CheckInput(name => SchemaShapes.Find(inputSchema, name));
        return SchemaShapes.WithKey(SchemaShapes.WithFloatVector(inputSchema, options.ScoreColumnName), options.PredictedLabelColumnName);
    }

    private void CheckInput(Func<string, ColumnShape?> find)
    {
        ImagePipeline.CheckImageColumn(find, options.ImageColumnName);
        LabelColumn.Check(find, options.LabelColumnName);
    }

    /// <summary>Loads the images, trains the network and returns the fitted classifier.</summary>
    /// <exception cref="InvalidDataException">Fewer than two classes, a class without images, a missing label or an unreadable image (named).</exception>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite (epoch and step named).</exception>
    public ResNetClassifierTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CheckInput(name => SchemaShapes.Find(input.Schema, name));
        var training = options.Training;
        long seed = training.Seed;
        var log = new ComponentLog(options.Log, Component);
        var ml = new MLContext(seed: 0); // builds the (randomness-free) ML.NET image and key transforms

        var classes = options.InitialModel?.ClassNames ?? LabelColumn.ClassNames(input, options.LabelColumnName);
        if (classes.Count < 2)
            throw new InvalidDataException($"Label column '{options.LabelColumnName}' has {classes.Count} class(es); a classifier needs at least two.");
        // The network first: a weights name brings the input size the images are loaded at.
        var setup = BuildNetwork(classes.Count, seed);
        try
        {
            if (setup.Report is null && options.InitialModel is null)
                log.Warning(
                    $"{setup.Model.Options.Name} trains from a random initialization (WeightsPath is not set): this is not transfer learning. " +
                    "Set WeightsPath to a registry name such as resnet18.mlnet_in1k or resnet50.tv2_in1k for pretrained weights.");
            // Fine-tuning adapts the network to per-channel normalization: a weights' mean image (ML.NET's) is not carried on.
            var modelInput = setup.Input with { ClassNames = classes, MeanImage = null };
            var (inMemory, loading) = ChooseLoading(input, modelInput);
            log.Info(loading);
            if (BFloat16Support.Emulates(training.MixedPrecisionBFloat16, training.Device))
                log.Warning($"Training in {BFloat16Support.Describe(true, training.Device)}.");
            using var data = LoadDataset(ml, input, modelInput, classes, "training", inMemory);
            var (train, validation) = SplitValidation(ml, data, modelInput, classes, seed, inMemory);
            try
            {
                var copy = training.Copy();
                copy.Input = modelInput;
                copy.ImageSize = null;
                copy.Progress = log.WithEpochs(training.Progress);
                var result = ResNetTrainer.Train(setup.Model, train, validation, copy);
                return new ResNetClassifierTransformer(ml.Transforms, options, input, setup, modelInput, classes, result) { DataLoading = loading };
            }
            finally
            {
                if (!ReferenceEquals(train, data))
                    train.Dispose();
                validation?.Dispose();
            }
        }
        catch
        {
            if (setup.OwnsModel)
                setup.Model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// In memory or streamed (<see cref="ResNetClassifierOptions.CacheDecodedImages"/>), with the reason in words: the
    /// decoded size of the training and validation rows against the budget, or the missing path column.
    /// </summary>
    private (bool InMemory, string Description) ChooseLoading(IDataView input, ImageModelInput modelInput)
    {
        string? pathColumn = options.ImagePathColumnName;
        bool hasPaths = pathColumn is not null && input.Schema.GetColumnOrNull(pathColumn) is { Type: TextDataViewType }
            && (options.ValidationSet is null || options.ValidationSet.Schema.GetColumnOrNull(pathColumn) is { Type: TextDataViewType });
        if (options.CacheDecodedImages == false && !hasPaths)
            throw new ArgumentOutOfRangeException(nameof(input),
                $"Schema mismatch for input column '{pathColumn}': streaming (CacheDecodedImages = false) needs a text column of image paths in the training and validation data.");
        long rows = ClassifierData.RowCount(input) + (options.ValidationSet is { } v ? ClassifierData.RowCount(v) : 0);
        long bytes = ClassifierData.DecodedBytes(rows, modelInput);
        string size = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{rows} images at {modelInput.ImageSize}x{modelInput.ImageSize}x{modelInput.Channels} take {bytes / 1048576.0:F0} MB decoded");
        int workers = options.Training.Workers;
        string streamed = $"streaming the image files with {workers} decode worker{(workers == 1 ? "" : "s")}";
        return options.CacheDecodedImages switch
        {
            true => (true, $"data: decoding into memory (CacheDecodedImages = true); {size}."),
            false => (false, $"data: {streamed} (CacheDecodedImages = false); {size} if decoded into memory."),
            null when !hasPaths => (true, $"data: decoding into memory, as there is no '{pathColumn}' column of image files to stream; {size}."),
            null when bytes <= options.DecodedImageMemoryBudget => (true,
                $"data: decoding into memory; {size}, within the budget of {options.DecodedImageMemoryBudget / 1048576.0:F0} MB (DecodedImageMemoryBudget)."),
            null => (false, $"data: {streamed}; {size}, over the budget of {options.DecodedImageMemoryBudget / 1048576.0:F0} MB (DecodedImageMemoryBudget)."),
        };
    }

    private ImageDataset LoadDataset(MLContext ml, IDataView view, ImageModelInput modelInput, IReadOnlyList<string> classes, string role, bool inMemory)
    {
        ImageDataset dataset = inMemory
            ? ClassifierData.Load(ml.Transforms, view, options.ImageColumnName, options.LabelColumnName, classes, modelInput,
                options.ImagePathColumnName, role, options.ImageLimits)
            : ClassifierData.LoadFiles(view, options.ImagePathColumnName!, options.LabelColumnName, classes, role, options.ImageLimits);
        var present = dataset.Labels.ToHashSet();
        var empty = classes.Where((_, k) => !present.Contains(k)).ToList();
        if (role == "training" && empty.Count > 0)
        {
            dataset.Dispose();
            throw new InvalidDataException($"Class(es) {string.Join(", ", empty.Select(c => $"'{c}'"))} have no images in the training data.");
        }
        return dataset;
    }

    private (ImageDataset Train, ImageDataset? Validation) SplitValidation(MLContext ml, ImageDataset data,
        ImageModelInput modelInput, IReadOnlyList<string> classes, long seed, bool inMemory)
    {
        if (options.ValidationSet is { } validationView)
            return (data, LoadDataset(ml, validationView, modelInput, classes, "validation", inMemory));
        if (options.ValidationFraction > 0)
        {
            return data switch
            {
                InMemoryImageDataset memory => memory.SplitStratified(options.ValidationFraction, seed),
                ImageFileDataset files => files.SplitStratified(options.ValidationFraction, seed),
                _ => throw new InvalidOperationException($"Unknown dataset {data.GetType().Name}."),
            };
        }
        return (data, null);
    }

    /// <summary>The network with a fresh head for the classes, its weights loaded (pretrained, then the initial model's).</summary>
    private NetworkSetup BuildNetwork(int numClasses, long seed)
    {
        var given = options.Model;
        if (given is not null && given.NumClasses != numClasses)
            given.ResetClassifier(numClasses);
        var setup = NetworkSetup.Create(options.Architecture, given, options.WeightsPath, options.Training.Input,
            options.Training.ImageSize, numClasses, seed, ResNetModels.Options(ResNetArchitecture.ResNet50)).ForMLNetTransforms();
        try
        {
            if (options.InitialModel is { } initial)
                WeightsLoader.Load(setup.Model, initial.NamedWeights(), WeightsLoadOptions.Exact, "the initial model");
            return setup;
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
/// A fine-tuned ResNet classifier in an ML.NET pipeline: adds <c>Score</c> and <c>PredictedLabel</c>. Saved with
/// <c>mlContext.Model.Save</c>, it reloads in plain ML.NET (image transforms, an ONNX model, key mapping) with equal
/// outputs. Dispose it to release the network.
/// </summary>
public sealed class ResNetClassifierTransformer : ImageModelTransformer
{
    private readonly ResNetModel model;

    internal ResNetClassifierTransformer(TransformsCatalog transforms, ResNetClassifierOptions options, IDataView input, NetworkSetup setup,
        ImageModelInput modelInput, IReadOnlyList<string> classes, TrainingResult result)
        : this(transforms, options, input, setup, modelInput, classes, result,
            ImageModelEngine.Create(setup.Model, ownsModel: false,
                new ImageModelSpec(modelInput, ResNetOutputKind.Logits, 4, false, options.Engine, options.Training.Device)
                    .WithPrecision(options.Precision, options.Int8, transforms, input, options.ImageColumnName, options.ImagePathColumnName, options.ImageLimits),
                LogitsColumn(options)),
            MulticlassHead.Create(classes, LogitsColumn(options), options.ScoreColumnName, options.PredictedLabelColumnName))
    {
    }

    private ResNetClassifierTransformer(TransformsCatalog transforms, ResNetClassifierOptions options, IDataView input, NetworkSetup setup,
        ImageModelInput modelInput, IReadOnlyList<string> classes, TrainingResult result, ImageModelEngine engine, OwnedTransformer head)
        : base(ImageModelChains.BuildChains(transforms, input, options.ImageColumnName, LogitsColumn(options), engine,
                modelInput, options.Training.BatchSize, options.ImagePathColumnName, options.ImageLimits,
                head.Transformer, LogitsColumn(options)),
            setup.OwnsModel ? new CompositeDisposable(engine, head, setup.Model) : new CompositeDisposable(engine, head))
    {
        model = setup.Model;
        ClassNames = classes;
        Training = result;
        Input = modelInput;
        pretrainedFrom = setup.Weights?.Pretrained?.Name ?? setup.Weights?.Metadata.PretrainedFrom;
    }

    private readonly string? pretrainedFrom;

    /// <summary>
    /// The input description the classifier was trained with and scores with, as ML.NET's image transforms compute it
    /// (<see cref="Data.ImagePreprocessing"/> with it gives the saved model's pixels); its class names are <see cref="ClassNames"/>.
    /// </summary>
    public ImageModelInput Input { get; }

    /// <summary>The class names, in key order (key value k + 1 is class k).</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>How the training images were read: decoded into memory or streamed from files, and why (see <see cref="ResNetClassifierOptions.CacheDecodedImages"/>).</summary>
    public string DataLoading { get; init; } = "";

    /// <summary>The training history: loss and accuracy per epoch, best epoch, early stop or cancellation.</summary>
    public TrainingResult Training { get; }

    /// <summary>The trained network (owned by this transformer unless it was given in the options).</summary>
    public ResNetModel Network => model;

    /// <summary>
    /// Writes the trained weights (.safetensors, .pth, or TorchSharp format by extension); safetensors files carry the
    /// architecture, the class names, the input description and the pretrained weights training started from as
    /// metadata, so <c>predict --weights</c> and <c>WeightsPath</c> need nothing else.
    /// </summary>
    public void SaveWeights(string path) => WeightsFile.Write(path, NamedWeights(), Metadata.ToDictionary());

    /// <summary>What <see cref="SaveWeights"/> records about the network.</summary>
    public WeightsMetadata Metadata => new()
    {
        Architecture = model.Options.Name,
        NumClasses = ClassNames.Count,
        PretrainedFrom = pretrainedFrom,
        Input = Input,
    };

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
