using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using ResNet.MLNet.Data;
using ResNet.MLNet.Models;
using ResNet.MLNet.Onnx;
using ResNet.MLNet.Training;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Applications;

/// <summary>Options of <see cref="ImageFolderFineTuning.Run"/>, the toolkit's main job.</summary>
public sealed class FineTuneOptions
{
    /// <summary>
    /// Folder with <c>train/</c> and <c>test/</c> (or <c>val/</c>, <c>valid/</c>, <c>validation/</c>) class folders, or class folders only (then
    /// <see cref="TestFraction"/> of each class is held out for testing).
    /// </summary>
    public required string DataFolder { get; init; }

    /// <summary>Where model.zip, model.onnx, weights.safetensors, metrics.json and checkpoints/ go.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Network to train (named, parsed or custom, as <see cref="ResNetClassifierOptions.Architecture"/>). Default null: the architecture of <see cref="WeightsPath"/>, else ResNet-34.</summary>
    public ResNetOptions? Architecture { get; init; }

    /// <summary>Pretrained weights, a registry name (<c>resnet18.mlnet_in1k</c>) or a file; the head is re-initialized for the classes. Default null.</summary>
    public string? WeightsPath { get; init; }

    /// <summary>Training options (epochs, batch size, learning rate, input size, freezing, ...). Checkpoints go to OutputDirectory/checkpoints.</summary>
    public TrainingOptions Training { get; init; } = new();

    /// <summary>With class folders only: the stratified fraction held out as the test split. Default 0.2.</summary>
    public double TestFraction { get; init; } = 0.2;

    /// <summary>Continue from the last checkpoint in OutputDirectory. Default false.</summary>
    public bool Resume { get; init; }

    /// <summary>
    /// Reuse an existing OutputDirectory that a previous run wrote (it holds <see cref="ImageFolderFineTuning.OutputMarker"/>):
    /// the files that run wrote (<see cref="ImageFolderFineTuning.OutputFiles"/>, checkpoints/) are deleted, nothing else.
    /// A folder without the marker is refused. Default false.
    /// </summary>
    public bool Force { get; init; }

    /// <summary>
    /// Keep OutputDirectory/checkpoints after a successful run. Default false: the checkpoints (the size of the network
    /// and its optimizer state, 256 MB for ResNet-34) are removed once model.zip and weights.safetensors are written; a
    /// cancelled or failed run always keeps them for <see cref="Resume"/>.
    /// </summary>
    public bool KeepCheckpoints { get; init; }

    /// <summary>Limits checked on every image's header (both splits, before training starts). Default <see cref="Data.ImageLimits.Default"/>.</summary>
    public ImageLimits ImageLimits { get; init; } = ImageLimits.Default;

    /// <summary>
    /// Leave out the images that fail the header check (listed in <see cref="FineTuneResult.SkippedImages"/>) instead of
    /// failing on them. Default false.
    /// </summary>
    public bool SkipCorrupt { get; init; }

    /// <summary>
    /// Decode the images into memory (true) or stream them from their files (false) while training; see
    /// <see cref="ResNetClassifierOptions.CacheDecodedImages"/>. Default null: by the decoded size against 2 GiB.
    /// </summary>
    public bool? CacheDecodedImages { get; init; }
}

/// <summary>What <see cref="ImageFolderFineTuning.Run"/> produced.</summary>
/// <param name="Metrics">Test-split metrics (also in metrics.json); null when training was cancelled (resume it with <see cref="FineTuneOptions.Resume"/>).</param>
/// <param name="Training">Training history and how it ended.</param>
/// <param name="ModelPath">The ML.NET model (input: ImagePath; outputs: PredictedLabel as the class name, Score).</param>
/// <param name="Seconds">Wall time of the whole job.</param>
/// <param name="Architecture">Registry name of the network trained.</param>
public sealed record FineTuneResult(ClassificationMetrics? Metrics, TrainingResult Training, string ModelPath, double Seconds, string Architecture)
{
    /// <summary>With <see cref="FineTuneOptions.SkipCorrupt"/>: the images left out, each with the reason.</summary>
    public IReadOnlyList<ImageProblem> SkippedImages { get; init; } = [];

    /// <summary>How the images were read while training (in memory or streamed) and why; see <see cref="ResNetClassifierTransformer.DataLoading"/>.</summary>
    public string DataLoading { get; init; } = "";
}

/// <summary>Micro/macro accuracy, log-loss, per-class figures and confusion matrix of a classifier on a test set.</summary>
/// <param name="Accuracy">Micro accuracy: the fraction of images classified correctly.</param>
/// <param name="MacroAccuracy">The mean of the per-class accuracies.</param>
/// <param name="LogLoss">Mean negative log-likelihood of the true class.</param>
/// <param name="Classes">Class names, in the order of the matrix.</param>
/// <param name="PerClass">Per class: precision and recall.</param>
/// <param name="ConfusionMatrix">Rows: true class; columns: predicted class.</param>
public sealed record ClassificationMetrics(double Accuracy, double MacroAccuracy, double LogLoss, IReadOnlyList<string> Classes,
    IReadOnlyList<ClassMetrics> PerClass, IReadOnlyList<IReadOnlyList<int>> ConfusionMatrix)
{
    /// <summary>Converts ML.NET's metrics.</summary>
    public static ClassificationMetrics From(MulticlassClassificationMetrics metrics, IReadOnlyList<string> classes)
    {
        var matrix = metrics.ConfusionMatrix;
        var counts = Enumerable.Range(0, matrix.NumberOfClasses)
            .Select(r => (IReadOnlyList<int>)Enumerable.Range(0, matrix.NumberOfClasses).Select(c => (int)Math.Round(matrix.Counts[r][c])).ToList()).ToList();
        var perClass = classes.Select((name, k) => new ClassMetrics(name, matrix.PerClassPrecision[k], matrix.PerClassRecall[k], counts[k].Sum())).ToList();
        return new ClassificationMetrics(metrics.MicroAccuracy, metrics.MacroAccuracy, metrics.LogLoss, classes, perClass, counts);
    }
}

/// <summary>Precision and recall of one class.</summary>
/// <param name="Class">Class name.</param>
/// <param name="Precision">Of the images predicted as this class, the fraction that are.</param>
/// <param name="Recall">Of the images of this class, the fraction found (the class's accuracy).</param>
/// <param name="Support">Test images of this class.</param>
public sealed record ClassMetrics(string Class, double Precision, double Recall, int Support);

/// <summary>
/// The main job: fine-tune a ResNet on an image folder through ML.NET, evaluate it on the test split, and write a
/// model that scores in plain ML.NET (model.zip), the network as ONNX and safetensors, metrics.json and checkpoints.
/// </summary>
public static class ImageFolderFineTuning
{
    /// <summary>Name of the key column (class names as key values) kept in model.zip for evaluation.</summary>
    internal const string PredictedLabelKeyColumn = "PredictedLabelKey";

    /// <summary>
    /// The file <see cref="Run"/> writes first in its output directory: proof that the directory is the toolkit's, the
    /// condition for <see cref="FineTuneOptions.Force"/> to delete anything in it.
    /// </summary>
    internal const string OutputMarker = ".resnet-mlnet-finetune";

    /// <summary>The files a run writes in its output directory (besides checkpoints/ and the marker); --force deletes these only.</summary>
    internal static IReadOnlyList<string> OutputFiles { get; } =
        ["model.zip", "model.onnx", "weights.safetensors", "metrics.json", "metrics.json.tmp", "classes.txt", "training-curves.png", "confusion-matrix.png"];

    /// <summary>
    /// The checks <see cref="Run"/> makes before reading any image, without touching anything: the data folder exists,
    /// the output directory lies apart from it, and an existing output directory is continued (Resume) or was written by
    /// a previous run (Force). A caller can report the job only once these pass.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The data folder does not exist.</exception>
    /// <exception cref="IOException">See <see cref="Run"/>.</exception>
    /// <exception cref="ArgumentException">The output directory is, contains or is inside the data folder.</exception>
    internal static void Validate(FineTuneOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckOutputApartFromData(options.OutputDirectory, options.DataFolder);
        if (!Directory.Exists(options.DataFolder))
            throw new DirectoryNotFoundException($"Data folder '{Path.GetFullPath(options.DataFolder)}' does not exist.");
        HasSplit(options.DataFolder, out _); // train/ without a held-out split (or the reverse) is refused here
        string output = Path.GetFullPath(options.OutputDirectory);
        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
        {
            if (options.Force && !File.Exists(Path.Combine(output, OutputMarker)))
                throw new IOException(
                    $"Output directory '{output}' was not written by finetune (it has no {OutputMarker} file), so --force does not delete anything in it. " +
                    "Choose another output directory, or empty this one yourself.");
            if (!options.Force && !options.Resume)
                throw new IOException($"Output directory '{output}' already exists; pass --resume to continue its training or --force to overwrite it.");
        }
        else if (options.Resume)
        {
            throw new IOException($"Nothing to resume: output directory '{output}' does not exist or is empty.");
        }
    }

    /// <summary>Runs the job. Cancelling <see cref="TrainingOptions.CancellationToken"/> stops after a checkpoint; the result then says so.</summary>
    /// <remarks>
    /// Nothing in the output directory is touched before the data is checked: the folder exists, its splits and classes
    /// are usable, and every image's header passes <see cref="FineTuneOptions.ImageLimits"/>.
    /// </remarks>
    /// <exception cref="IOException">
    /// The output directory exists and neither Resume nor Force is set, or Force is set and the directory was not written
    /// by a previous run (no <see cref="OutputMarker"/>).
    /// </exception>
    /// <exception cref="ArgumentException">The output directory is, contains or is inside the data folder.</exception>
    public static FineTuneResult Run(MLContext ml, FineTuneOptions options)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        Validate(options);
        var (trainRows, testRows) = Splits(options);
        // Every bad file of both splits, before training: all reported at once, or left out with SkipCorrupt.
        var skipped = ImageHeader.FindProblems(trainRows.Concat(testRows).Select(r => r.ImagePath).ToList(), options.ImageLimits);
        if (skipped.Count > 0 && !options.SkipCorrupt)
            throw ImageHeader.Error(skipped, trainRows.Count + testRows.Count);
        if (skipped.Count > 0)
            (trainRows, testRows) = Without(trainRows, testRows, skipped.Select(p => p.Path).ToHashSet(StringComparer.Ordinal), options.DataFolder);
        string output = PrepareOutput(options);

        var training = options.Training;
        training.CheckpointDirectory = Path.Combine(output, "checkpoints");
        training.Resume = options.Resume;
        var classifierOptions = new ResNetClassifierOptions
        {
            Architecture = options.Architecture ?? (options.WeightsPath is null ? ResNetModels.Options(ResNetArchitecture.ResNet34) : null),
            WeightsPath = options.WeightsPath,
            Training = training,
            ImageLimits = options.ImageLimits,
            CacheDecodedImages = options.CacheDecodedImages,
        };

        var train = ml.Data.LoadImageRows(trainRows);
        var test = ml.Data.LoadImageRows(testRows);
        var labels = ml.Transforms.Conversion.MapValueToKey("Label").Fit(train);
        var loadImages = ml.Transforms.LoadImages("Image", null, "ImagePath").Fit(train);
        var keyedTrain = loadImages.Transform(labels.Transform(train));
        var keyedTest = loadImages.Transform(labels.Transform(test));
        // The test split is scored after every epoch for the curves (fastai's valid column); nothing is chosen by it.
        classifierOptions.ValidationSet = keyedTest;
        using var classifier = ml.MulticlassClassification.Trainers.ResNetClassifier(classifierOptions).Fit(keyedTrain);
        if (classifier.Training.Cancelled)
            return new FineTuneResult(null, classifier.Training, Path.Combine(output, "model.zip"), clock.Elapsed.TotalSeconds, classifier.Network.Options.Name)
            {
                SkippedImages = skipped,
                DataLoading = classifier.DataLoading,
            };

        var scoredTest = classifier.Transform(keyedTest);
        var metrics = ClassificationMetrics.From(ml.MulticlassClassification.Evaluate(scoredTest), classifier.ClassNames);

        // model.zip: ImagePath in; PredictedLabel (class name), Score and the key column out.
        var withKey = ml.Transforms.CopyColumns(PredictedLabelKeyColumn, "PredictedLabel").Fit(scoredTest);
        var toText = ml.Transforms.Conversion.MapKeyToValue("PredictedLabel").Fit(withKey.Transform(scoredTest));
        string modelPath = Path.Combine(output, "model.zip");
        ml.Model.Save(new TransformerChain<ITransformer>(loadImages, classifier, withKey, toText), train.Schema, modelPath);

        var input = classifier.Input;
        ResNetOnnx.Export(classifier.Network, Path.Combine(output, "model.onnx"), new OnnxExportOptions
        {
            Output = ResNetOutputKind.Probabilities,
            Normalization = new InputNormalization(input.Mean, input.Std),
            Input = input,
            ImageHeight = input.ImageSize,
            ImageWidth = input.ImageSize,
        });
        classifier.SaveWeights(Path.Combine(output, "weights.safetensors"));
        File.WriteAllText(Path.Combine(output, "classes.txt"), string.Join('\n', classifier.ClassNames) + "\n");
        WriteMetrics(Path.Combine(output, "metrics.json"), metrics, classifier.Training, classifier.Network.Options.Name);
        if (!options.KeepCheckpoints && Directory.Exists(training.CheckpointDirectory))
            Directory.Delete(training.CheckpointDirectory, recursive: true);
        return new FineTuneResult(metrics, classifier.Training, modelPath, clock.Elapsed.TotalSeconds, classifier.Network.Options.Name)
        {
            SkippedImages = skipped,
            DataLoading = classifier.DataLoading,
        };
    }

    /// <summary>The images an evaluation scores: the folder's held-out split (test/, val/, valid/ or validation/) when it has one, else all its class folders.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">The folder has train/ but no held-out split.</exception>
    internal static IReadOnlyList<ImageFolderEntry> EvaluationRows(string dataFolder)
    {
        if (HeldOutSplit(dataFolder) is { } split)
            return ImageFolder.List(dataFolder, new ImageFolderOptions { Split = split });
        HasSplit(dataFolder, out _); // train/ alone is refused
        return ImageFolder.List(dataFolder);
    }

    /// <summary>Scores an image folder with a saved model.zip (plain ML.NET) and computes the metrics.</summary>
    /// <param name="ml">The ML.NET context.</param>
    /// <param name="modelPath">model.zip written by <see cref="Run"/>, or a classifier pipeline saved from the API (taking ImagePath, outputting a key-typed PredictedLabel).</param>
    /// <param name="dataFolder">Image folder: its test/ (or val/, valid/, validation/) split when present, else its class folders.</param>
    /// <param name="limits">Limits checked on every image's header before the model decodes any; default <see cref="ImageLimits.Default"/>.</param>
    /// <exception cref="InvalidDataException">An image is malformed or over the limits (every such file is named), or the model cannot be loaded.</exception>
    public static ClassificationMetrics Evaluate(MLContext ml, string modelPath, string dataFolder, ImageLimits? limits = null)
    {
        var rows = EvaluationRows(dataFolder);
        ImageHeader.CheckAll(rows.Select(r => r.ImagePath), limits);
        var model = LoadModel(ml, modelPath, out _);
        // ML.NET keeps a loaded ONNX model in a temporary file, deleted when the model is disposed.
        using var release = model as IDisposable;
        var images = ml.Data.LoadImageRows(rows);
        try
        {
            var scored = model.Transform(images);
            // finetune's model.zip keeps the key as PredictedLabelKey (PredictedLabel is the class name); a pipeline
            // saved from the API (LoadImages, MapValueToKey, ResNetClassifier or any multiclass trainer) outputs the key
            // as PredictedLabel and may have turned Label into a key itself.
            string predicted = scored.Schema.GetColumnOrNull(PredictedLabelKeyColumn) is not null ? PredictedLabelKeyColumn
                : scored.Schema.GetColumnOrNull("PredictedLabel") is { Type: KeyDataViewType } ? "PredictedLabel"
                : throw new InvalidDataException(
                    $"'{Path.GetFullPath(modelPath)}' outputs no predicted class key (neither '{PredictedLabelKeyColumn}' nor a key-typed 'PredictedLabel'; " +
                    $"it outputs {string.Join(", ", scored.Schema.Where(c => !c.IsHidden).Select(c => $"{c.Name} ({c.Type})"))}). " +
                    "evaluate needs a multiclass classifier: a model.zip from finetune, or a pipeline saved without mapping PredictedLabel back to text.");
            var classes = LabelColumn.ClassNames(scored, predicted);
            var keyed = scored.Schema["Label"].Type is KeyDataViewType
                ? scored
                : ml.Transforms.Conversion.MapValueToKey("Label", keyData: LabelColumn.KeyData(classes)).Fit(scored).Transform(scored);
            var metrics = ml.MulticlassClassification.Evaluate(keyed, predictedLabelColumnName: predicted);
            return ClassificationMetrics.From(metrics, classes);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // ML.NET decodes inside its own (parallel) cursors and reports a bad image without naming it: find the file.
            var (row, path) = ImagePipeline.FindUnreadableImage(images, "ImagePath", 0);
            if (path is null)
                throw;
            throw ImagePipeline.RowError(row, path, e);
        }
    }

    /// <summary>Loads a saved ML.NET model, naming the file when it is missing or not a model.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not an ML.NET model that loads here.</exception>
    internal static ITransformer LoadModel(MLContext ml, string modelPath, out DataViewSchema inputSchema)
    {
        string full = Path.GetFullPath(modelPath);
        if (!File.Exists(modelPath))
            throw new FileNotFoundException($"Model file '{full}' does not exist.", modelPath);
        try
        {
            return ml.Model.Load(modelPath, out inputSchema);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or InvalidOperationException or NotSupportedException or ArgumentException
            or IOException)
        {
            throw new InvalidDataException($"'{full}' is not an ML.NET model that can be loaded here: {UserMessages.Of(e)}", e);
        }
    }

    /// <summary>Empties a previous run's files when forced (only where the marker says they are a previous run's), then marks the directory.</summary>
    private static string PrepareOutput(FineTuneOptions options)
    {
        string output = Path.GetFullPath(options.OutputDirectory);
        string marker = Path.Combine(output, OutputMarker);
        if (options.Force && File.Exists(marker))
        {
            foreach (string name in OutputFiles)
                File.Delete(Path.Combine(output, name));
            string checkpoints = Path.Combine(output, "checkpoints");
            if (Directory.Exists(checkpoints))
                Directory.Delete(checkpoints, recursive: true);
        }
        Directory.CreateDirectory(output);
        if (!File.Exists(marker))
            File.WriteAllText(marker, "Written by resnet-mlnet finetune. --force deletes this run's files in this folder only while this file is here.\n");
        return output;
    }

    /// <summary>Refuses an output directory that is the data folder, holds it, or lies inside it: --force would delete images.</summary>
    private static void CheckOutputApartFromData(string outputDirectory, string dataFolder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputDirectory);
        ArgumentException.ThrowIfNullOrWhiteSpace(dataFolder);
        string output = Resolved(outputDirectory), data = Resolved(dataFolder);
        var comparison = OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        string relation = string.Equals(output, data, comparison) ? "is"
            : data.StartsWith(output, comparison) ? "contains"
            : output.StartsWith(data, comparison) ? "is inside"
            : "";
        if (relation.Length > 0)
            throw new ArgumentException(
                $"The output directory '{output.TrimEnd(Path.DirectorySeparatorChar)}' {relation} the data folder '{data.TrimEnd(Path.DirectorySeparatorChar)}'; " +
                "outputs (and --force) must stay apart from the images. Choose an output directory outside the data folder.");

        static string Resolved(string path)
        {
            string full = Path.GetFullPath(path);
            if (Directory.Exists(full) && new DirectoryInfo(full).ResolveLinkTarget(returnFinalTarget: true) is { } target)
                full = target.FullName;
            return Path.TrimEndingDirectorySeparator(full) + Path.DirectorySeparatorChar;
        }
    }

    internal static (IReadOnlyList<ImageFolderEntry> Train, IReadOnlyList<ImageFolderEntry> Test) Splits(FineTuneOptions options)
    {
        string folder = options.DataFolder;
        if (HasSplit(folder, out string? testSplit))
        {
            var train = ImageFolder.List(folder, new ImageFolderOptions { Split = "train" });
            var test = ImageFolder.List(folder, new ImageFolderOptions { Split = testSplit });
            CheckClasses(folder, "train", train, null);
            CheckClasses(folder, testSplit!, test, train);
            return (train, test);
        }
        var all = ImageFolder.List(folder);
        CheckClasses(folder, null, all, null);
        return StratifiedSplit(all, options.TestFraction, options.Training.Seed);
    }

    /// <summary>The splits without the <paramref name="bad"/> files; every class of the training split must keep an image.</summary>
    private static (IReadOnlyList<ImageFolderEntry>, IReadOnlyList<ImageFolderEntry>) Without(IReadOnlyList<ImageFolderEntry> train,
        IReadOnlyList<ImageFolderEntry> test, HashSet<string> bad, string folder)
    {
        var keptTrain = train.Where(r => !bad.Contains(r.ImagePath)).ToList();
        var keptTest = test.Where(r => !bad.Contains(r.ImagePath)).ToList();
        var emptied = train.Select(r => r.Label).Distinct().Except(keptTrain.Select(r => r.Label)).ToList();
        if (emptied.Count > 0 || keptTest.Count == 0)
            throw new InvalidDataException(
                $"Data folder '{Path.GetFullPath(folder)}': without its {bad.Count} unreadable image(s), " +
                (emptied.Count > 0 ? $"class(es) {string.Join(", ", emptied.Select(c => $"'{c}'"))} have no training image" : "the test split is empty") +
                ". Replace the unreadable images.");
        return (keptTrain, keptTest);
    }

    /// <summary>Names of the held-out split beside train/, looked for in this order (torchvision's val, fastai's valid).</summary>
    private static readonly string[] HeldOutSplits = ["test", "val", "valid", "validation"];

    /// <summary>The held-out split folder's name, or null when the folder has none.</summary>
    private static string? HeldOutSplit(string folder) => HeldOutSplits.FirstOrDefault(s => Directory.Exists(Path.Combine(folder, s)));

    /// <summary>
    /// Whether the folder is split (train/ and a held-out split beside it). Only one of the two is an error: the folder
    /// would otherwise be read as two or three classes named after the splits.
    /// </summary>
    private static bool HasSplit(string folder, out string? testSplit)
    {
        testSplit = HeldOutSplit(folder);
        bool hasTrain = Directory.Exists(Path.Combine(folder, "train"));
        if (hasTrain == (testSplit is not null))
            return hasTrain;
        string full = Path.GetFullPath(folder);
        throw new InvalidDataException(hasTrain
            ? $"Data folder '{full}' has train/ but no held-out split beside it: add {SplitNames} with the same class folders, or put the class folders directly in '{full}' to hold out a share of each class."
            : $"Data folder '{full}' has {testSplit}/ but no train/ beside it: add train/ with the same class folders, or put the class folders directly in '{full}'.");
    }

    private static string SplitNames => $"{HeldOutSplits[0]}/ (or {string.Join(", ", HeldOutSplits.Skip(1).Select(s => s + "/"))})";

    private static void CheckClasses(string folder, string? split, IReadOnlyList<ImageFolderEntry> rows, IReadOnlyList<ImageFolderEntry>? train)
    {
        var empty = ImageFolder.EmptyClasses(folder, new ImageFolderOptions { Split = split });
        string where = split is null ? $"'{folder}'" : $"'{Path.Combine(folder, split)}'";
        if (empty.Count > 0)
            throw new InvalidDataException($"Class folder(s) {string.Join(", ", empty.Select(e => $"'{e}'"))} in {where} hold no images.");
        var classes = rows.Select(r => r.Label).Distinct().ToList();
        if (train is null && classes.Count < 2)
            throw new InvalidDataException($"{where} has {classes.Count} class folder(s); a classifier needs at least two.");
        var unknown = train is null ? [] : classes.Except(train.Select(r => r.Label)).ToList();
        if (unknown.Count > 0)
            throw new InvalidDataException($"Class(es) {string.Join(", ", unknown)} in {where} do not exist in the training split.");
    }

    /// <summary>The test split of an unsplit folder, by the toolkit's one stratified split (<see cref="ImageDataset"/>'s rule).</summary>
    private static (IReadOnlyList<ImageFolderEntry>, IReadOnlyList<ImageFolderEntry>) StratifiedSplit(IReadOnlyList<ImageFolderEntry> rows, double fraction, long seed)
    {
        var classes = rows.Select(r => r.Label).Distinct().Order(StringComparer.Ordinal).ToList();
        var index = ImageDataset.ClassIndex(classes);
        try
        {
            var (train, test) = ImageDataset.StratifiedIndices([.. rows.Select(r => index[r.Label])], classes, fraction, seed, "testing");
            return (train.Select(i => rows[i]).ToList(), test.Select(i => rows[i]).ToList());
        }
        catch (ArgumentException e) when (e is not ArgumentOutOfRangeException) // a class too small to split: the data's fault
        {
            throw new InvalidDataException($"{e.Message} Add images, or give the folder train/ and test/ splits.", e);
        }
    }

    /// <summary>JSON as the toolkit writes it: snake_case names (accuracy, macro_accuracy, per_class, ...), indented.</summary>
    internal static JsonSerializerOptions Json { get; } = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    private static void WriteMetrics(string path, ClassificationMetrics metrics, TrainingResult training, string architecture)
    {
        var report = new MetricsFile(architecture, metrics.Accuracy, metrics.MacroAccuracy, metrics.LogLoss,
            metrics.Classes, metrics.PerClass, metrics.ConfusionMatrix, training.History, training.BestEpoch, training.StoppedEarly, training.Precision);
        string temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(report, Json));
        File.Move(temp, path, overwrite: true);
    }

    private sealed record MetricsFile(string Arch, double Accuracy, double MacroAccuracy, double LogLoss, IReadOnlyList<string> Classes,
        IReadOnlyList<ClassMetrics> PerClass, IReadOnlyList<IReadOnlyList<int>> ConfusionMatrix, IReadOnlyList<EpochMetrics> Epochs, int BestEpoch,
        bool StoppedEarly, string Precision);
}
