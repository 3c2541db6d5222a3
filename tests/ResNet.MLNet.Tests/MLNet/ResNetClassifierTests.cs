using Microsoft.ML;
using Microsoft.ML.Data;
using ResNet.MLNet.Data;
using ResNet.MLNet.Tests.TestSupport;
using ResNet.MLNet.Training;
using Xunit.Abstractions;

namespace ResNet.MLNet.Tests.MLNet;

public class ResNetClassifierTests(ITestOutputHelper output)
{
    /// <summary>A CIFAR ResNet-20 at 28 px for a few epochs: seconds on two cores.</summary>
    internal static ResNetClassifierOptions Tiny(int epochs = 3) => new()
    {
        Architecture = ResNetArchitecture.CifarResNet20,
        Training = new TrainingOptions
        {
            Epochs = epochs,
            BatchSize = 32,
            LearningRate = 3e-3f,
            ImageSize = 28,
            Augmentation = Augmentation.None,
        },
    };

    private static (MLContext Ml, IDataView Train, IDataView Test, ITransformer Prepare) SampleData(int every = 1)
    {
        var ml = new MLContext(seed: 3);
        IDataView Load(string split) => ml.Data.LoadFromEnumerable(ImageFolder.List(Repo.SampleData, new ImageFolderOptions { Split = split })
            .Where((_, i) => i % every == 0).Select(e => new ResNetFeaturizerTests.ImageRow { ImagePath = e.ImagePath, Label = e.Label }));
        var train = Load("train");
        var prepare = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.LoadImages("Image", null, "ImagePath")).Fit(train);
        return (ml, train, Load("test"), prepare);
    }

    [Fact]
    public void Its_Input_preprocesses_an_image_as_the_model_itself_does()
    {
        var (ml, train, test, prepare) = SampleData(every: 4);
        var options = Tiny(epochs: 1);
        options.Training.ImageSize = 32; // the images are 28 pixels, so ML.NET's resampling is at work
        using var classifier = ml.MulticlassClassification.Trainers.ResNetClassifier(options).Fit(prepare.Transform(train));
        Assert.Equal(ImageInterpolation.MLNet, classifier.Input.Interpolation);

        var scored = classifier.Transform(prepare.Transform(test));
        var scores = scored.GetColumn<float[]>("Score").ToList();
        var paths = scored.GetColumn<string>("ImagePath").ToList();
        using var noGrad = TorchSharp.torch.no_grad();
        classifier.Network.eval();
        for (int i = 0; i < paths.Count; i += 5)
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            var pixels = ImagePreprocessing.Load(paths[i], classifier.Input);
            var x = pixels.ToBatch();
            var probabilities = TorchSharp.torch.nn.functional.softmax(classifier.Network.forward(x), 1).data<float>().ToArray();
            AssertClose.Relative(scores[i], probabilities, 1e-4);
        }
    }

    [Fact]
    public void Fine_tunes_evaluates_and_reloads_in_plain_MLNet()
    {
        var (ml, train, test, prepare) = SampleData();
        using var classifier = ml.MulticlassClassification.Trainers.ResNetClassifier(Tiny(epochs: 4)).Fit(prepare.Transform(train));
        var history = classifier.Training.History;
        output.WriteLine(string.Join("\n", history.Select(e => $"epoch {e.Epoch}: loss {e.TrainLoss:F3} acc {e.TrainAccuracy:F3}")));
        Assert.Equal(4, history.Count);
        Assert.True(history[^1].TrainLoss < history[0].TrainLoss, "training loss did not decrease");

        var scored = classifier.Transform(prepare.Transform(test));
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 10), scored.Schema["Score"].Type);
        Assert.True(scored.Schema["PredictedLabel"].Type is KeyDataViewType);
        var metrics = ml.MulticlassClassification.Evaluate(scored);
        output.WriteLine($"test accuracy {metrics.MicroAccuracy:F3}");
        Assert.True(metrics.MicroAccuracy > 0.25, $"accuracy {metrics.MicroAccuracy}");

        // Saved and reloaded by a process with plain ML.NET only: same scores, same predicted classes.
        var model = new TransformerChain<ITransformer>(ml.Transforms.LoadImages("Image", null, "ImagePath").Fit(test), classifier,
            ml.Transforms.Conversion.MapKeyToValue("PredictedLabel").Fit(scored));
        string path = Path.Combine(Path.GetTempPath(), $"classifier-{Guid.NewGuid():N}.zip");
        ml.Model.Save(model, test.Schema, path);
        var rows = ml.Data.CreateEnumerable<ResNetFeaturizerTests.ImageRow>(test, reuseRowObject: false).ToList();
        var reloaded = PlainMLNet.Score(path, rows.Select(r => (r.ImagePath, r.Label)), "Score", "PredictedLabel");
        File.Delete(path);
        var expectedScores = ResNetFeaturizerTests.Features(scored, "Score");
        var expectedLabels = ml.Data.CreateEnumerable<Predicted>(model.Transform(test), reuseRowObject: false).Select(p => p.PredictedLabel).ToList();
        for (int r = 0; r < rows.Count; r++)
        {
            AssertClose.Relative(expectedScores[r], reloaded[r]["Score"].EnumerateArray().Select(v => v.GetSingle()).ToArray(), 1e-4);
            Assert.Equal(expectedLabels[r], reloaded[r]["PredictedLabel"].GetString());
        }
        double plainAccuracy = reloaded.Zip(rows).Count(p => p.First["PredictedLabel"].GetString() == p.Second.Label) / (double)rows.Count;
        Assert.Equal(metrics.MicroAccuracy, plainAccuracy, tolerance: 1e-6);
    }

    [Fact]
    public void Leaves_nothing_in_the_temp_folder_once_it_and_its_reloaded_model_are_disposed()
    {
        // ML.NET runs ONNX models from files: the classifier's head and the twin it saves must not leave theirs behind
        // (ML.NET 6 never deletes the copy it makes of a model given as a stream), nor must a reloaded model.
        using var temp = new TempDirectory();
        using var saved = new TempDirectory();
        string? previous = Environment.GetEnvironmentVariable("TMPDIR");
        Environment.SetEnvironmentVariable("TMPDIR", temp.Path);
        try
        {
            Assert.Equal(Path.TrimEndingDirectorySeparator(temp.Path), Path.TrimEndingDirectorySeparator(Path.GetTempPath()));
            var (ml, train, test, prepare) = SampleData(every: 8);
            var keyedTest = prepare.Transform(test);
            string path = saved.File("classifier.zip");
            float[] scores;
            using (var classifier = ml.MulticlassClassification.Trainers.ResNetClassifier(Tiny(epochs: 1)).Fit(prepare.Transform(train)))
            {
                scores = classifier.Transform(keyedTest).GetColumn<float[]>("Score").First();
                ml.Model.Save(classifier, keyedTest.Schema, path);
                Assert.NotEmpty(Directory.EnumerateFileSystemEntries(temp.Path)); // the head's ONNX step, while the classifier lives
            }
            var reloaded = ml.Model.Load(path, out _);
            AssertClose.Relative(scores, reloaded.Transform(keyedTest).GetColumn<float[]>("Score").First(), 1e-4);
            ((IDisposable)reloaded).Dispose();
            Assert.Empty(Directory.EnumerateFileSystemEntries(temp.Path));
        }
        finally
        {
            Environment.SetEnvironmentVariable("TMPDIR", previous);
        }
    }

    [Fact]
    public void Epochs_are_reported_to_the_Log_handler_and_to_the_callers_progress()
    {
        var (ml, train, _, prepare) = SampleData(every: 4);
        var steps = new List<TrainingProgress>();
        var options = Tiny(epochs: 2);
        var logged = LogOf(options);
        options.Training.Progress = new SynchronousProgress(steps.Add);
        using var classifier = ml.MulticlassClassification.Trainers.ResNetClassifier(options).Fit(prepare.Transform(train));

        var epochs = logged.Where(m => m.Contains("epoch ", StringComparison.Ordinal) && m.Contains("images/s", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, epochs.Count);
        Assert.Contains("epoch 1/2: loss", epochs[0]);
        Assert.Contains("epoch 2/2: loss", epochs[1]);
        Assert.Contains(logged, m => m.Contains("random initialization", StringComparison.Ordinal) && m.Contains("Kind=Warning", StringComparison.Ordinal));
        Assert.Equal(2, steps.Count(p => p.Event == TrainingEvent.EpochCompleted));
        Assert.Contains(steps, p => p.Event == TrainingEvent.StepCompleted);
    }

    [Fact]
    public void Says_what_precision_it_trained_in_and_warns_when_bfloat16_would_be_emulated()
    {
        var (ml, train, _, prepare) = SampleData(every: 8);
        var options = Tiny(epochs: 1);
        var logged = LogOf(options);
        options.Training.MixedPrecisionBFloat16 = true;
        using var classifier = ml.MulticlassClassification.Trainers.ResNetClassifier(options).Fit(prepare.Transform(train));

        Assert.StartsWith("bfloat16 mixed precision", classifier.Training.Precision);
        Assert.Equal(BFloat16Support.IsNativeOnCpu, classifier.Training.Precision.Contains("native", StringComparison.Ordinal));
        Assert.Equal(!BFloat16Support.IsNativeOnCpu, logged.Any(m => m.Contains("emulated", StringComparison.Ordinal)));
    }

    /// <summary>The messages the classifier built with <paramref name="options"/> reports, as MLContext.Log would show them.</summary>
    private static List<string> LogOf(ResNetClassifierOptions options)
    {
        var logged = new List<string>();
        options.Log = (_, e) => { lock (logged) logged.Add(e.Message); };
        return logged;
    }

    private sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    [Fact]
    public void Streams_the_image_files_when_asked_or_over_the_memory_budget_and_logs_the_choice()
    {
        var (ml, train, test, prepare) = SampleData(every: 4);
        var options = Tiny(epochs: 2);
        var logged = LogOf(options);
        options.DecodedImageMemoryBudget = 1000; // far below 100 images at 28 px
        options.Training.Seed = 11;
        options.Training.Augmentation = new Augmentation { MinScale = 0.5f };
        options.Training.DecodeWorkers = 2;
        using var streamed = ml.MulticlassClassification.Trainers.ResNetClassifier(options).Fit(prepare.Transform(train));
        Assert.StartsWith("data: streaming the image files with 2 decode workers", streamed.DataLoading);
        Assert.Contains("over the budget", streamed.DataLoading);
        lock (logged)
            Assert.Contains(logged, m => m.Contains(streamed.DataLoading, StringComparison.Ordinal));
        var metrics = ml.MulticlassClassification.Evaluate(streamed.Transform(prepare.Transform(test)));
        Assert.True(double.IsFinite(metrics.LogLoss), $"log-loss {metrics.LogLoss}"); // the fitted model scores like any other

        // The same seed streams the same batches with another worker count.
        options.Training.DecodeWorkers = 1;
        options.CacheDecodedImages = false;
        using var again = ml.MulticlassClassification.Trainers.ResNetClassifier(options).Fit(prepare.Transform(train));
        Assert.Equal(streamed.Training.History.Select(h => h.TrainLoss), again.Training.History.Select(h => h.TrainLoss));

        using var inMemory = ml.MulticlassClassification.Trainers.ResNetClassifier(Tiny(epochs: 1)).Fit(prepare.Transform(train));
        Assert.StartsWith("data: decoding into memory;", inMemory.DataLoading);
        Assert.Contains("within the budget", inMemory.DataLoading);
    }

    [Fact]
    public void Streaming_without_a_path_column_fails_before_training_naming_the_column()
    {
        var (ml, train, _, prepare) = SampleData(every: 10);
        var withoutPaths = ml.Transforms.DropColumns("ImagePath").Fit(prepare.Transform(train)).Transform(prepare.Transform(train));
        var options = Tiny(epochs: 1);
        options.CacheDecodedImages = false;
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.ResNetClassifier(options).Fit(withoutPaths));
        Assert.Contains("Schema mismatch for input column 'ImagePath'", error.Message);
    }

    [Fact]
    public void Same_seed_same_model_and_string_labels_work()
    {
        var (ml, train, test, prepare) = SampleData(every: 4);
        var images = ml.Transforms.LoadImages("Image", null, "ImagePath").Fit(train);
        var options = Tiny(epochs: 1);
        options.Training.Seed = 11;
        options.LabelColumnName = "Label"; // a string column here: the classifier maps it itself
        using var a = ml.MulticlassClassification.Trainers.ResNetClassifier(options).Fit(images.Transform(train));
        using var b = ml.MulticlassClassification.Trainers.ResNetClassifier(options).Fit(images.Transform(train));
        Assert.Equal(10, a.ClassNames.Count);
        Assert.Equal("ankle_boot", a.ClassNames[0]);
        var sa = ResNetFeaturizerTests.Features(a.Transform(images.Transform(test)), "Score");
        var sb = ResNetFeaturizerTests.Features(b.Transform(images.Transform(test)), "Score");
        Assert.Equal(sa, sb);
    }

    [Fact]
    public void Continues_training_from_a_fitted_classifier()
    {
        var (ml, train, _, prepare) = SampleData(every: 4);
        var data = prepare.Transform(train);
        using var first = ml.MulticlassClassification.Trainers.ResNetClassifier(Tiny(epochs: 2)).Fit(data);
        var options = Tiny(epochs: 1);
        options.InitialModel = first;
        using var second = ml.MulticlassClassification.Trainers.ResNetClassifier(options).Fit(data);
        // The continued run starts where the first ended: its first-epoch loss is near the first run's last, far below a fresh start.
        double fresh = first.Training.History[0].TrainLoss;
        Assert.True(second.Training.History[0].TrainLoss < fresh, $"continued {second.Training.History[0].TrainLoss} vs fresh {fresh}");
    }

    [Fact]
    public void Bad_label_columns_fail_before_training()
    {
        var ml = new MLContext(seed: 1);
        var rows = ml.Data.LoadFromEnumerable(new[] { new FloatLabelRow { ImagePath = Path.Combine(Repo.SampleData, "x.png"), Label = 1 } });
        var images = ml.Transforms.LoadImages("Image", null, "ImagePath").Fit(rows).Transform(rows);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.ResNetClassifier(Tiny()).Fit(images));
        Assert.Contains("Schema mismatch for input column 'Label': expected Key (from MapValueToKey) or String, got Single", e.Message);
        var options = Tiny();
        options.LabelColumnName = "Class";
        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.ResNetClassifier(options).Fit(images));
        Assert.Contains("'Class'", missing.Message);

        var one = ml.Data.LoadFromEnumerable(ImageFolder.List(Repo.SampleData, new ImageFolderOptions { Split = "test" }).Take(3)
            .Select(r => new ResNetFeaturizerTests.ImageRow { ImagePath = r.ImagePath, Label = r.Label }));
        var oneClass = ml.Transforms.LoadImages("Image", null, "ImagePath").Fit(one).Transform(one);
        var few = Assert.Throws<InvalidDataException>(() => ml.MulticlassClassification.Trainers.ResNetClassifier(Tiny()).Fit(oneClass));
        Assert.Contains("at least two", few.Message);
    }

    private sealed class Predicted
    {
        public string PredictedLabel { get; set; } = "";
    }

    private sealed class FloatLabelRow
    {
        public string ImagePath { get; set; } = "";
        public float Label { get; set; }
    }
}
