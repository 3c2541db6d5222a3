using ResNet.MLNet.Data;
using ResNet.MLNet.Models;
using ResNet.MLNet.Training;
using static ResNet.MLNet.Tests.Training.StreamingTestSupport;
using static ResNet.MLNet.Tests.Training.TrainingTestSupport;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Training;

/// <summary>Training straight from image files: determinism, preprocessing on originals, feature cache, bad files.</summary>
public class StreamingTrainingTests
{
    private static readonly Augmentation Everything = new() { MinScale = 0.3f }; // crop, flip and jitter all drawn

    [Fact]
    public void Same_seed_gives_the_same_weights_whatever_the_number_of_workers()
    {
        using var temp = new TempDirectory();
        using var data = ImageFileDataset.FromFolder(WriteQuadrantFolder(temp.Path, perClass: 6));
        var factory = new ModelFactory(TinyOptions());
        using var one = factory.Create();
        using var three = factory.Create();
        using var otherSeed = factory.Create();

        var a = ResNetTrainer.Train(one, data, null, Options(Everything, workers: 1));
        var b = ResNetTrainer.Train(three, data, null, Options(Everything, workers: 3));
        var seeded = Options(Everything, workers: 3);
        seeded.Seed = 5;
        ResNetTrainer.Train(otherSeed, data, null, seeded);

        AssertSameState(one, three);
        Assert.Equal(a.History.Select(h => h.TrainLoss), b.History.Select(h => h.TrainLoss));
        Assert.False(StateBytes(one)[0].AsSpan().SequenceEqual(StateBytes(otherSeed)[0]), "another seed gave the same weights");
    }

    [Fact]
    public void Streamed_files_learn_the_quadrants()
    {
        using var temp = new TempDirectory();
        using var data = ImageFileDataset.FromFolder(WriteQuadrantFolder(temp.Path, perClass: 12));
        var (train, validation) = data.SplitStratified(0.25, seed: 1);
        using var model = new ModelFactory(TinyOptions()).Create();
        var options = Options(new Augmentation { MinScale = 0.8f, ColorJitter = 0.1f, HorizontalFlip = false }, workers: 2, epochs: 8);
        var result = ResNetTrainer.Train(model, train, validation, options);
        Assert.True(result.History[^1].ValidationAccuracy >= 0.75, $"validation accuracy {result.History[^1].ValidationAccuracy}");
    }

    [Fact]
    public void Training_crops_are_taken_from_the_original_and_evaluation_is_the_weights_preprocessing()
    {
        using var temp = new TempDirectory();
        WriteQuadrantFolder(temp.Path, perClass: 1);
        using var data = ImageFileDataset.FromFolder(temp.Path);
        var input = new ImageModelInput { ImageSize = 16, ResizeSize = 18 };
        using var decoded = data.Decode(0);
        var original = ImageTensor.FromImage(decoded);

        var augmentation = new Augmentation { MinScale = 0.2f, HorizontalFlip = false, ColorJitter = 0 };
        var transform = new ImageFileTransform(input, augmentation);
        var produced = transform.Apply(decoded, RandomSource.ForItem(3, 0, 1, 0));
        var (top, left, h, w) = BatchPreprocessor.CropBox(original.Height, original.Width, 0.2, RandomSource.ForItem(3, 0, 1, 0));
        var expected = original.Crop(top, left, h, w).Resize(16, 16).Normalize(input.Mean, input.Std);
        Assert.Equal(expected.Data.ToArray(), produced.Data.ToArray());

        var evaluation = new ImageFileTransform(input, null).Apply(decoded, null);
        Assert.Equal(ImagePreprocessing.Apply(original, input).Data.ToArray(), evaluation.Data.ToArray());
    }

    [Fact]
    public void Evaluation_of_files_equals_the_network_on_each_preprocessed_image()
    {
        using var temp = new TempDirectory();
        using var data = ImageFileDataset.FromFolder(WriteQuadrantFolder(temp.Path, perClass: 3));
        using var model = new ModelFactory(TinyOptions()).Create();
        model.eval();
        var input = new ImageModelInput { ImageSize = 16, ResizeSize = 16 };
        var (_, _, probabilities) = ResNetTrainer.Evaluate(model, data, input, batchSize: 5);
        using var noGrad = no_grad();
        for (int i = 0; i < data.Count; i++)
        {
            var image = ImagePreprocessing.Load(data.Paths[i], input);
            using var x = tensor(image.Data.ToArray(), [1, 3, 16, 16]);
            using var p = nn.functional.softmax(model.forward(x), 1);
            var expected = p.data<float>().ToArray();
            for (int k = 0; k < expected.Length; k++)
                Assert.Equal(expected[k], probabilities[i * expected.Length + k], tolerance: 1e-5);
        }
    }

    /// <summary>Head-only training on the images without augmentation (so training features can be cached), 3 epochs.</summary>
    private static TrainingOptions HeadOnly(bool cache = true, long budget = 1L << 30)
    {
        var options = Options(Augmentation.None, workers: 2, epochs: 3);
        options.Freeze = FreezeMode.HeadOnly;
        options.CacheFrozenFeatures = cache;
        options.FeatureCacheMemoryBudget = budget;
        return options;
    }

    [Fact]
    public void Head_only_epochs_train_on_cached_features_with_the_same_result()
    {
        using var temp = new TempDirectory();
        using var data = ImageFileDataset.FromFolder(WriteQuadrantFolder(temp.Path, perClass: 6));
        var (train, validation) = data.SplitStratified(0.25, seed: 2);
        var factory = new ModelFactory(TinyOptions());
        using var cached = factory.Create();
        using var uncached = factory.Create();
        var b = ResNetTrainer.Train(uncached, train, validation, HeadOnly(cache: false));
        // With the cache, the images are read once: after the first epoch they may go.
        var options = HeadOnly();
        options.Progress = new RecordingProgress(p =>
        {
            if (p.Event == TrainingEvent.EpochCompleted && p.Epoch == 1)
                Directory.Delete(temp.Path, recursive: true);
        });
        var a = ResNetTrainer.Train(cached, train, validation, options);

        // The same features through other kernels (a batch of vectors, not of images): equal within float rounding.
        foreach (var (x, y) in StateBytes(cached, _ => true).Values.Zip(StateBytes(uncached, _ => true).Values))
        {
            var fx = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(x).ToArray();
            var fy = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(y).ToArray();
            for (int i = 0; i < fx.Length; i++)
                Assert.Equal(fy[i], fx[i], tolerance: 1e-4);
        }
        for (int e = 0; e < 3; e++)
        {
            Assert.Equal(b.History[e].TrainLoss, a.History[e].TrainLoss, tolerance: 1e-4);
            Assert.Equal(b.History[e].ValidationLoss!.Value, a.History[e].ValidationLoss!.Value, tolerance: 1e-4);
        }
    }

    [Fact]
    public void A_feature_cache_over_its_memory_budget_goes_to_disk_with_the_same_result()
    {
        using var temp = new TempDirectory();
        using var data = ImageFileDataset.FromFolder(WriteQuadrantFolder(temp.Path, perClass: 6));
        var (train, validation) = data.SplitStratified(0.25, seed: 2);
        var factory = new ModelFactory(TinyOptions());
        using var inMemory = factory.Create();
        using var onDisk = factory.Create();
        var a = ResNetTrainer.Train(inMemory, train, validation, HeadOnly());
        var b = ResNetTrainer.Train(onDisk, train, validation, HeadOnly(budget: 0));

        AssertSameState(inMemory, onDisk);
        Assert.Equal(a.History.Select(h => h.ValidationLoss), b.History.Select(h => h.ValidationLoss));
    }

    [Fact]
    public void A_file_deleted_during_training_stops_the_run_naming_it_and_keeps_the_last_checkpoint()
    {
        using var temp = new TempDirectory();
        string folder = WriteQuadrantFolder(Path.Combine(temp.Path, "data"), perClass: 6);
        using var data = ImageFileDataset.FromFolder(folder);
        using var model = new ModelFactory(TinyOptions()).Create();
        var options = Options(Everything, workers: 2, epochs: 3);
        options.CheckpointDirectory = Path.Combine(temp.Path, "checkpoints");
        string victim = data.Paths[7];
        options.Progress = new RecordingProgress(p =>
        {
            if (p.Event == TrainingEvent.EpochCompleted && p.Epoch == 1)
                File.Delete(victim);
        });

        var error = Assert.Throws<InvalidDataException>(() => ResNetTrainer.Train(model, data, null, options));
        Assert.Contains(victim, error.Message);
        Assert.Contains("deleted or moved", error.Message);
        Assert.True(File.Exists(TrainingCheckpoint.PathIn(options.CheckpointDirectory)), "the checkpoint of epoch 1 is kept");
        Assert.Equal(1, TrainingCheckpoint.Read(options.CheckpointDirectory)!.Value.State.CompletedEpochs);
    }

    [Fact]
    public void A_file_corrupted_during_training_stops_the_run_naming_it()
    {
        using var temp = new TempDirectory();
        using var data = ImageFileDataset.FromFolder(WriteQuadrantFolder(temp.Path, perClass: 6));
        using var model = new ModelFactory(TinyOptions()).Create();
        var options = Options(Everything, workers: 3, epochs: 2);
        string victim = data.Paths[13];
        options.Progress = new RecordingProgress(p =>
        {
            if (p.Event == TrainingEvent.EpochCompleted)
                File.WriteAllBytes(victim, File.ReadAllBytes(victim)[..40]); // truncated mid-header
        });

        var error = Assert.Throws<InvalidDataException>(() => ResNetTrainer.Train(model, data, null, options));
        Assert.Contains(Path.GetFileName(victim), error.Message);
    }
}
