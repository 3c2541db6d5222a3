using Microsoft.ML;
using ResNet.MLNet.Training;
using ResNet.MLNet.Models;

namespace ResNet.MLNet;

/// <summary>Options of <c>mlContext.MulticlassClassification.Trainers.ResNetClassifier</c>. Every property has a documented default.</summary>
public sealed class ResNetClassifierOptions
{
    /// <summary>Label column: a key (after <c>MapValueToKey</c>, as ML.NET trainers expect) or, as a convenience, a string. Default "Label".</summary>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>Image column (from <c>LoadImages</c>). Default "Image".</summary>
    public string ImageColumnName { get; set; } = "Image";

    /// <summary>Output column of class probabilities, <c>Vector&lt;Single&gt;</c> of the class count. Default "Score".</summary>
    public string ScoreColumnName { get; set; } = "Score";

    /// <summary>Output key column whose key values are the class names. Default "PredictedLabel".</summary>
    public string PredictedLabelColumnName { get; set; } = "PredictedLabel";

    /// <summary>
    /// Architecture to build: a named one (<c>ResNetArchitecture.ResNet34</c> converts implicitly), a parsed name
    /// (<c>ResNetModels.Options("cifar_resnet20")</c>) or custom options. Default null: the architecture of the weights
    /// (<see cref="WeightsPath"/>), else ResNet-50. Ignored when <see cref="Model"/> is set.
    /// </summary>
    public ResNetOptions? Architecture { get; set; }

    /// <summary>
    /// A network built in code to train instead of <see cref="Architecture"/>; its head is replaced for the class count.
    /// The toolkit trains it in place and does not dispose it. Default null.
    /// </summary>
    public ResNetModel? Model { get; set; }

    /// <summary>
    /// Pretrained weights: a registry name (<c>resnet18.mlnet_in1k</c>, <c>resnet50.tv2_in1k</c>; see
    /// <see cref="Weights.WeightsRegistry"/>) or a file (.pth, .safetensors, .onnx, TorchSharp format). They bring their
    /// architecture and input description (<see cref="TrainingOptions.Input"/> overrides it); the head is re-initialized
    /// for the class count. Default null (train from scratch).
    /// </summary>
    public string? WeightsPath { get; set; }

    /// <summary>A fitted classifier whose weights seed this fit (continue training). Its classes must be the same. Default null.</summary>
    public ResNetClassifierTransformer? InitialModel { get; set; }

    /// <summary>
    /// Epochs, batch size, optimizer, schedule, freezing, augmentation, input size and normalization, early stopping,
    /// checkpoints, progress and cancellation; see <see cref="TrainingOptions"/>. Its <see cref="TrainingOptions.Seed"/>
    /// (default 0) is the classifier's one seed: it also initializes the new head (and a network without weights) and
    /// draws the validation split. The MLContext's seed is not used (ML.NET gives no public way to it from a catalog).
    /// </summary>
    public TrainingOptions Training { get; set; } = new();

    /// <summary>Held-out data with the same columns, for validation metrics and early stopping. Default null.</summary>
    public IDataView? ValidationSet { get; set; }

    /// <summary>Without <see cref="ValidationSet"/>: the fraction of training images held out (stratified) for validation. Default 0 (none).</summary>
    public double ValidationFraction { get; set; }

    /// <summary>
    /// A text column naming each row's image file: quoted in errors, and the files streamed when the images are not
    /// decoded into memory (<see cref="CacheDecodedImages"/>). Default "ImagePath" (used when present).
    /// </summary>
    public string? ImagePathColumnName { get; set; } = "ImagePath";

    /// <summary>
    /// Decode every training and validation image into memory before training (fastest for small sets), or, when false,
    /// stream them from their files (<see cref="ImagePathColumnName"/>) with <see cref="TrainingOptions.DecodeWorkers"/>
    /// threads, so memory does not grow with the number of images and random-resized crops come from the originals.
    /// Default null: in memory when the decoded images (rows x channels x size x size bytes) fit in
    /// <see cref="DecodedImageMemoryBudget"/> or there is no path column, else streamed. The choice is reported to
    /// <see cref="Log"/> and in <see cref="ResNetClassifierTransformer.DataLoading"/>.
    /// </summary>
    public bool? CacheDecodedImages { get; set; }

    /// <summary>
    /// Bytes the decoded training and validation images may take in memory when <see cref="CacheDecodedImages"/> is null.
    /// A fixed default, not a share of this machine's memory, so that the same data and seed train the same way on every
    /// machine. Default 2 GiB (about 14,000 RGB images at 224 pixels, 57,000 at 112).
    /// </summary>
    public long DecodedImageMemoryBudget { get; set; } = 2L << 30;

    /// <summary>Engine that scores the fitted model in ML.NET pipelines. Default <see cref="ResNetInferenceEngine.OnnxRuntime"/>.</summary>
    public ResNetInferenceEngine Engine { get; set; } = ResNetInferenceEngine.OnnxRuntime;

    /// <summary>
    /// Arithmetic of the fitted model when it scores (training is float32). Default <see cref="ResNetPrecision.Float32"/>;
    /// <see cref="ResNetPrecision.Int8"/> quantizes after training, calibrated on the training rows, and needs the ONNX Runtime engine.
    /// </summary>
    public ResNetPrecision Precision { get; set; } = ResNetPrecision.Float32;

    /// <summary>How <see cref="ResNetPrecision.Int8"/> quantizes. Default: 32 calibration images, 7-bit weights.</summary>
    public Int8Options Int8 { get; set; } = new();

    /// <summary>
    /// Limits checked on the header of every file of the <c>ImagePath</c> column (training, validation and scored data)
    /// before ML.NET decodes it. Default <see cref="Data.ImageLimits.Default"/>.
    /// </summary>
    public Data.ImageLimits ImageLimits { get; set; } = Data.ImageLimits.Default;

    /// <summary>
    /// Receives the classifier's messages, as <c>MLContext.Log</c> receives ML.NET's (pass the same handler to see both):
    /// warnings (no pretrained weights, emulated bfloat16), how the images are read, and one line per epoch. Default
    /// null (no messages). The library cannot write to <c>MLContext.Log</c>: ML.NET gives no public way to it from a catalog.
    /// </summary>
    public EventHandler<LoggingEventArgs>? Log { get; set; }

    /// <summary>Checks the options, naming the one at fault.</summary>
    /// <exception cref="ArgumentException">An option is out of range or contradicts another.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Training, nameof(Training));
        Training.Validate();
        foreach (var (name, value) in new[] { (nameof(LabelColumnName), LabelColumnName), (nameof(ImageColumnName), ImageColumnName),
                     (nameof(ScoreColumnName), ScoreColumnName), (nameof(PredictedLabelColumnName), PredictedLabelColumnName) })
        {
            if (string.IsNullOrWhiteSpace(value))
                throw new ArgumentException($"{name} must be set.", name);
        }
        if (Precision == ResNetPrecision.Int8 && Engine != ResNetInferenceEngine.OnnxRuntime)
            throw new ArgumentException($"{nameof(Precision)} = Int8 runs on ONNX Runtime; set {nameof(Engine)} = OnnxRuntime.", nameof(Precision));
        Int8.Validate();
        if (DecodedImageMemoryBudget < 0)
            throw new ArgumentException($"{nameof(DecodedImageMemoryBudget)} must not be negative; got {DecodedImageMemoryBudget}.", nameof(DecodedImageMemoryBudget));
        if (CacheDecodedImages == false && string.IsNullOrWhiteSpace(ImagePathColumnName))
            throw new ArgumentException($"{nameof(CacheDecodedImages)} = false streams image files and needs {nameof(ImagePathColumnName)}.", nameof(CacheDecodedImages));
        if (ValidationFraction is < 0 or >= 1)
            throw new ArgumentException($"{nameof(ValidationFraction)} must be in [0, 1); got {ValidationFraction}.", nameof(ValidationFraction));
        if (Training.EarlyStopping is not null && ValidationSet is null && ValidationFraction == 0)
            throw new ArgumentException($"Early stopping needs validation data: set {nameof(ValidationSet)} or {nameof(ValidationFraction)}.", nameof(ValidationSet));
    }
}
