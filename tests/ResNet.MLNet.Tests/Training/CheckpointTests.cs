using ResNet.MLNet.Training;
using ResNet.MLNet.Models;
using static ResNet.MLNet.Tests.Training.TrainingTestSupport;

namespace ResNet.MLNet.Tests.Training;

public class CheckpointTests
{
    /// <summary>SGD with momentum, one-cycle and augmentation: every piece of state a resume must restore.</summary>
    private static TrainingOptions Options(string directory)
    {
        var options = FastOptions(epochs: 4);
        options.Optimizer = OptimizerKind.Sgd;
        options.LearningRate = 0.05f;
        options.Schedule = ScheduleKind.OneCycle;
        options.Augmentation = new Augmentation { MinScale = 0.6f };
        options.EarlyStopping = EarlyStoppingMetric.ValidationAccuracy;
        options.Patience = 4;
        options.CheckpointDirectory = directory;
        options.Seed = 21;
        return options;
    }

    private static TrainingOptions Resuming(TrainingOptions options)
    {
        options.Resume = true;
        return options;
    }

    /// <summary>The reference: the same options, trained without interruption.</summary>
    private static (ResNetModel Model, TrainingResult Result) Uninterrupted(ModelFactory factory, InMemoryImageDataset train, InMemoryImageDataset validation)
    {
        using var directory = new TempDirectory();
        var model = factory.Create();
        return (model, ResNetTrainer.Train(model, train, validation, Options(directory.Path)));
    }

    [Fact]
    public void Should_resume_after_cancellation_with_the_same_result_as_an_uninterrupted_run()
    {
        var factory = new ModelFactory(TinyOptions());
        using var train = Quadrants(40, seed: 1);
        using var validation = Quadrants(12, seed: 2);
        var (straight, expected) = Uninterrupted(factory, train, validation);
        using var _ = straight;

        using var directory = new TempDirectory();
        using var cancellation = new CancellationTokenSource();
        var options = Options(directory.Path);
        options.CancellationToken = cancellation.Token;
        options.Progress = new RecordingProgress(p =>
        {
            if (p is { Event: TrainingEvent.StepCompleted, Epoch: 3, Step: 2 })
                cancellation.Cancel();
        });
        using var interrupted = factory.Create();
        var first = ResNetTrainer.Train(interrupted, train, validation, options);

        Assert.True(first.Cancelled);
        Assert.Equal(2, first.History.Count);
        var saved = TrainingCheckpoint.Read(directory.Path)!.Value;
        Assert.Equal(2, saved.State.CompletedEpochs);
        using (var fromCheckpoint = factory.Create())
        {
            // The unfinished epoch was rolled back, then early stopping's best epoch restored.
            string prefix = saved.State.HasBestWeights ? "best." : "model.";
            ResNet.MLNet.Weights.WeightsLoader.Load(fromCheckpoint,
                saved.Tensors.Values.Where(t => t.Name.StartsWith(prefix)).Select(t => t.WithName(t.Name[prefix.Length..])).ToList());
            AssertSameState(fromCheckpoint, interrupted);
            Assert.Equal(saved.State.BestEpoch, first.BestEpoch);
        }

        using var resumed = ResNet.MLNet.Models.ResNetModels.Build(TinyOptions(), seed: 99); // other weights: all come from the checkpoint
        var second = ResNetTrainer.Train(resumed, train, validation, Resuming(Options(directory.Path)));

        Assert.Equal(2, second.ResumedFromEpoch);
        Assert.False(second.Cancelled);
        AssertSameState(straight, resumed);
        Assert.Equal(expected.History.Select(h => (h.TrainLoss, h.ValidationLoss)), second.History.Select(h => (h.TrainLoss, h.ValidationLoss)));
        Assert.Equal(expected.BestEpoch, second.BestEpoch);
    }

    [Fact]
    public void Should_keep_the_last_checkpoint_intact_when_a_write_is_interrupted()
    {
        var factory = new ModelFactory(TinyOptions());
        using var train = Quadrants(40, seed: 3);
        using var validation = Quadrants(12, seed: 4);
        using var straight = Uninterrupted(factory, train, validation).Model;

        using var directory = new TempDirectory();
        var options = Options(directory.Path);
        int commits = 0;
        options.BeforeCheckpointCommit = temporary =>
        {
            if (++commits == 2)
            {
                File.WriteAllBytes(temporary, new byte[100]); // a torn write, then the "crash"
                throw new IOException("simulated crash");
            }
        };
        using var crashed = factory.Create();
        Assert.Throws<IOException>(() => ResNetTrainer.Train(crashed, train, validation, options));

        var intact = TrainingCheckpoint.Read(directory.Path);
        Assert.NotNull(intact);
        Assert.Equal(1, intact.Value.State.CompletedEpochs);

        using var resumed = factory.Create();
        var result = ResNetTrainer.Train(resumed, train, validation, Resuming(Options(directory.Path)));
        Assert.Equal(1, result.ResumedFromEpoch);
        AssertSameState(straight, resumed);
        Assert.False(File.Exists(Path.Combine(directory.Path, "last.safetensors.tmp")));
    }

    [Fact]
    public void Should_return_the_history_without_training_when_the_checkpoint_is_complete()
    {
        var factory = new ModelFactory(TinyOptions());
        using var train = Quadrants(20, seed: 5);
        using var directory = new TempDirectory();
        var options = FastOptions(epochs: 1);
        options.CheckpointDirectory = directory.Path;
        using var model = factory.Create();
        ResNetTrainer.Train(model, train, null, options);
        var progress = new RecordingProgress();
        options.Resume = true;
        options.Progress = progress;

        var result = ResNetTrainer.Train(model, train, null, options);

        Assert.Single(result.History);
        Assert.Equal(1, result.ResumedFromEpoch);
        Assert.Empty(progress.Reports);
    }

    /// <summary>Trains one checkpointed epoch, then resumes for a second with the options <paramref name="change"/> makes: what it threw, or null.</summary>
    private static Exception? ResumeWith(int seed, Action<TrainingOptions> change)
    {
        var factory = new ModelFactory(TinyOptions());
        using var train = Quadrants(20, seed: seed);
        using var directory = new TempDirectory();
        using var model = factory.Create();
        var options = FastOptions(epochs: 1);
        options.CheckpointDirectory = directory.Path;
        ResNetTrainer.Train(model, train, null, options);

        options.Resume = true;
        options.Epochs = 2; // extending a run is not a change of options
        change(options);
        return Record.Exception(() => ResNetTrainer.Train(model, train, null, options));
    }

    [Fact]
    public void Should_refuse_to_resume_with_another_optimizer()
    {
        var error = Assert.IsType<ArgumentException>(ResumeWith(6, o => o.Optimizer = OptimizerKind.Sgd));
        Assert.Equal(nameof(TrainingOptions.Optimizer), error.ParamName);
    }

    [Fact]
    public void Should_refuse_to_resume_with_other_options_unless_told_and_allow_more_epochs()
    {
        var defaults = FastOptions(epochs: 1);
        string rate = defaults.LearningRate.ToString(System.Globalization.CultureInfo.InvariantCulture);
        int size = defaults.ImageSize ?? 224;
        void Change(TrainingOptions o)
        {
            o.LearningRate *= 10;
            o.ImageSize = size + 4;
        }

        var e = Assert.IsType<ArgumentException>(ResumeWith(7, Change));

        Assert.Contains($"{TrainingCheckpoint.FileName} was written with other options", e.Message);
        Assert.Contains($"LearningRate {rate} (now ", e.Message);
        Assert.Contains($"ImageSize {size} (now {size + 4})", e.Message);
        Assert.Null(ResumeWith(7, _ => { }));
        Assert.Null(ResumeWith(7, o => { o.LearningRate *= 10; o.ResumeOverride = true; }));
    }
}
