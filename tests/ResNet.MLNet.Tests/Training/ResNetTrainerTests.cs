using ResNet.MLNet.Training;
using TorchSharp;
using ResNet.MLNet.Models;
using static ResNet.MLNet.Tests.Training.TrainingTestSupport;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Training;

public class ResNetTrainerTests
{
    [Fact]
    public void Should_decrease_the_loss_on_a_learnable_problem()
    {
        var factory = new ModelFactory(TinyOptions());
        using var model = factory.Create();
        using var train = Quadrants(64, seed: 1);
        using var validation = Quadrants(32, seed: 2);

        var result = ResNetTrainer.Train(model, train, validation, FastOptions(epochs: 6));

        var losses = result.History.Select(h => h.TrainLoss).ToArray();
        Assert.True(losses[^1] < 0.2 * losses[0], $"train loss {string.Join(" -> ", losses.Select(l => l.ToString("F3")))}");
        Assert.True(result.History[^1].ValidationAccuracy >= 0.9, $"validation accuracy {result.History[^1].ValidationAccuracy}");
        Assert.Equal(6, result.BestEpoch);
        Assert.False(model.training);
    }

    [Fact]
    public void Should_produce_identical_weights_for_the_same_seed_and_different_ones_for_another()
    {
        var factory = new ModelFactory(TinyOptions());
        using var train = Quadrants(40, seed: 3);
        TrainingOptions Options(long seed)
        {
            var options = FastOptions(epochs: 2);
            options.Seed = seed;
            options.Augmentation = new Augmentation { MinScale = 0.5f }; // every random path: crop, flip, jitter
            options.Optimizer = OptimizerKind.Sgd;
            options.Nesterov = true;
            options.Schedule = ScheduleKind.OneCycle;
            return options;
        }

        using var first = factory.Create();
        using var second = factory.Create();
        using var other = factory.Create();
        var a = ResNetTrainer.Train(first, train, null, Options(7));
        var b = ResNetTrainer.Train(second, train, null, Options(7));
        ResNetTrainer.Train(other, train, null, Options(8));

        AssertSameState(first, second);
        Assert.Equal(a.History.Select(h => h.TrainLoss), b.History.Select(h => h.TrainLoss));
        Assert.False(StateBytes(first)[0].AsSpan().SequenceEqual(StateBytes(other)[0]), "another seed gave the same first weights");
    }

    [Fact]
    public void Should_update_BatchNorm_statistics_in_training_and_not_in_evaluation()
    {
        var factory = new ModelFactory(TinyOptions());
        using var model = factory.Create();
        using var data = Quadrants(32, seed: 4);
        static bool IsStatistic(string key) => key.EndsWith("running_mean") || key.EndsWith("running_var") || key.EndsWith("num_batches_tracked");
        var initial = StateBytes(model, IsStatistic);

        ResNetTrainer.Train(model, data, null, FastOptions(epochs: 1));
        var trained = StateBytes(model, IsStatistic);
        Assert.All(initial, e => Assert.False(e.Value.AsSpan().SequenceEqual(trained[e.Key]), $"{e.Key} did not change in training"));

        ResNetTrainer.Evaluate(model, data, new ImageModelInput { ImageSize = 16 }, batchSize: 8);
        var evaluated = StateBytes(model, IsStatistic);
        Assert.All(trained, e => Assert.True(e.Value.AsSpan().SequenceEqual(evaluated[e.Key]), $"{e.Key} changed in evaluation"));
    }

    [Fact]
    public void Should_leave_frozen_parameters_and_their_BatchNorm_statistics_unchanged()
    {
        var factory = new ModelFactory(TinyOptions());
        using var model = factory.Create();
        using var data = Quadrants(32, seed: 5);
        // Two stages: AllButLastStages with one trainable stage freezes the stem (conv1, bn1) and layer1.
        static bool IsFrozen(string key) => key.StartsWith("conv1.") || key.StartsWith("bn1.") || key.StartsWith("layer1.");
        var before = StateBytes(model, _ => true);
        var options = FastOptions(epochs: 2);
        options.Freeze = FreezeMode.AllButLastStages;
        options.TrainLastStages = 1;

        ResNetTrainer.Train(model, data, null, options);

        var after = StateBytes(model, _ => true);
        Assert.All(before.Where(e => IsFrozen(e.Key)), e => Assert.True(e.Value.AsSpan().SequenceEqual(after[e.Key]), $"frozen {e.Key} changed"));
        Assert.All(before.Where(e => e.Key.StartsWith("layer2.") && e.Key.EndsWith("weight") || e.Key.StartsWith("fc.")),
            e => Assert.False(e.Value.AsSpan().SequenceEqual(after[e.Key]), $"trainable {e.Key} did not change"));
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad)); // flags restored
    }

    [Fact]
    public void Should_train_only_the_head_during_the_freeze_epochs_then_everything()
    {
        var factory = new ModelFactory(TinyOptions());
        using var model = factory.Create();
        using var data = Quadrants(32, seed: 6);
        var initial = StateBytes(model, key => !key.StartsWith("fc."));
        Dictionary<string, byte[]>? afterFirstEpoch = null;
        var options = FastOptions(epochs: 2);
        options.FreezeEpochs = 1;
        options.Progress = new RecordingProgress(p =>
        {
            if (p is { Event: TrainingEvent.EpochCompleted, Epoch: 1 })
                afterFirstEpoch = StateBytes(model, key => !key.StartsWith("fc."));
        });

        ResNetTrainer.Train(model, data, null, options);

        Assert.NotNull(afterFirstEpoch);
        Assert.All(initial, e => Assert.True(e.Value.AsSpan().SequenceEqual(afterFirstEpoch[e.Key]), $"{e.Key} changed in the freeze epoch"));
        var final = StateBytes(model, key => key == "conv1.weight");
        Assert.False(initial["conv1.weight"].AsSpan().SequenceEqual(final["conv1.weight"]), "the stem did not train after unfreezing");
    }

    [Fact]
    public void Should_apply_label_smoothing_to_the_training_loss()
    {
        var factory = new ModelFactory(TinyOptions());
        using var data = Quadrants(16, seed: 7);
        const float smoothing = 0.2f;

        // The first step's loss is computed before any update: compare it with the formula on the same forward pass.
        double FirstStepLoss(float labelSmoothing)
        {
            using var model = factory.Create();
            var progress = new RecordingProgress();
            var options = FastOptions(epochs: 1);
            options.LabelSmoothing = labelSmoothing;
            options.Progress = progress;
            ResNetTrainer.Train(model, data, null, options);
            return progress.Reports.First(r => r.Event == TrainingEvent.StepCompleted).BatchLoss;
        }

        double plain = FirstStepLoss(0), smoothed = FirstStepLoss(smoothing);

        using var reference = factory.Create();
        reference.train();
        using var scope = NewDisposeScope();
        var x = data.Images.to_type(ScalarType.Float32).div(255).expand(-1, 3, -1, -1);
        x = (x - tensor(new[] { 0.485f, 0.456f, 0.406f }).reshape(1, 3, 1, 1)) / tensor(new[] { 0.229f, 0.224f, 0.225f }).reshape(1, 3, 1, 1);
        var logProbabilities = nn.functional.log_softmax(reference.forward(x), 1);
        var labels = tensor(data.Labels.ToArray());
        double crossEntropy = -logProbabilities.gather(1, labels.unsqueeze(1)).mean().item<float>();
        double uniform = -logProbabilities.mean().item<float>();

        Assert.Equal(crossEntropy, plain, tolerance: 1e-4);
        Assert.Equal((1 - smoothing) * crossEntropy + smoothing * uniform, smoothed, tolerance: 1e-4);
    }

    [Fact]
    public void Should_report_the_scheduled_learning_rate_and_metrics_at_every_step()
    {
        var factory = new ModelFactory(TinyOptions());
        using var model = factory.Create();
        using var data = Quadrants(40, seed: 8); // 16 + 16 + 8: three steps per epoch
        var progress = new RecordingProgress();
        var options = FastOptions(epochs: 3);
        options.Schedule = ScheduleKind.CosineWithWarmup;
        options.WarmupEpochs = 1;
        options.Progress = progress;

        var result = ResNetTrainer.Train(model, data, null, options);

        var steps = progress.Reports.Where(r => r.Event == TrainingEvent.StepCompleted).ToList();
        Assert.Equal(9, steps.Count);
        Assert.All(steps, r => Assert.Equal(3, r.StepsPerEpoch));
        Assert.All(steps, r => Assert.Equal(LearningRateSchedule.At(options, r.Epoch - 1, r.Step - 1, 3), r.LearningRate));
        Assert.All(steps, r => Assert.True(r.ImagesPerSecond > 0 && r.Accuracy is >= 0 and <= 1 && double.IsFinite(r.Loss)));
        var epochs = progress.Reports.Where(r => r.Event == TrainingEvent.EpochCompleted).ToList();
        Assert.Equal([1, 2, 3], epochs.Select(r => r.Epoch));
        Assert.Equal(result.History, epochs.Select(r => r.EpochMetrics!));
        Assert.Equal(steps[2].Loss, result.History[0].TrainLoss, tolerance: 1e-12);
    }

    [Fact]
    public void Should_stop_early_and_restore_the_best_weights()
    {
        var factory = new ModelFactory(TinyOptions());
        using var model = factory.Create();
        // Random labels: the network can only memorize, so validation loss rises after the first epochs.
        using var train = Quadrants(32, seed: 9, randomLabels: true);
        using var validation = Quadrants(32, seed: 10, randomLabels: true);
        var options = FastOptions(epochs: 12);
        options.LearningRate = 0.03f;
        options.EarlyStopping = EarlyStoppingMetric.ValidationLoss;
        options.Patience = 2;

        var result = ResNetTrainer.Train(model, train, validation, options);

        var losses = result.History.Select(h => h.ValidationLoss!.Value).ToList();
        Assert.True(result.StoppedEarly, $"validation losses {string.Join(", ", losses.Select(l => l.ToString("F3")))}");
        Assert.Equal(losses.IndexOf(losses.Min()) + 1, result.BestEpoch);
        Assert.Equal(result.BestEpoch + options.Patience, result.History.Count);
        var (loss, accuracy, _) = ResNetTrainer.Evaluate(model, validation, options.ResolveInput(model.Options.InChannels), batchSize: 16);
        Assert.Equal(result.Best!.ValidationLoss!.Value, loss, tolerance: 1e-5);
        Assert.Equal(result.Best.ValidationAccuracy!.Value, accuracy, tolerance: 1e-5);
    }

    [Fact]
    public void Should_stop_with_a_clear_error_when_the_loss_diverges()
    {
        var factory = new ModelFactory(TinyOptions());
        using var model = factory.Create();
        using var data = Quadrants(32, seed: 11);
        using var directory = new TempDirectory();
        var options = FastOptions(epochs: 1);
        options.Optimizer = OptimizerKind.Sgd;
        options.CheckpointDirectory = directory.Path;
        ResNetTrainer.Train(model, data, null, options);

        options.Epochs = 3;
        options.Resume = true;
        options.LearningRate = 1e30f;
        options.ResumeOverride = true; // another learning rate than the checkpoint's, on purpose
        var error = Assert.Throws<TrainingDivergedException>(() => ResNetTrainer.Train(model, data, null, options));

        Assert.Equal(2, error.Epoch);
        Assert.Contains($"epoch 2, step {error.Step}", error.Message);
        Assert.Contains(Path.Combine(directory.Path, "last.safetensors"), error.Message);
        Assert.Equal(1, TrainingCheckpoint.Read(directory.Path)!.Value.State.CompletedEpochs);
    }

    [Fact]
    public void Should_free_every_tensor_it_allocates()
    {
        var factory = new ModelFactory(TinyOptions());
        using var model = factory.Create();
        using var train = Quadrants(40, seed: 12);
        using var validation = Quadrants(8, seed: 13);
        var options = FastOptions(epochs: 3);
        options.Augmentation = Augmentation.Default;
        options.EarlyStopping = EarlyStoppingMetric.ValidationAccuracy;
        options.MixedPrecisionBFloat16 = true;
        ResNetTrainer.Train(model, train, validation, options); // warm-up: lazily created tensors
        var statistics = DisposeScopeManager.Statistics;
        long before = statistics.ThreadTotalLiveCount;

        ResNetTrainer.Train(model, train, validation, options);
        ResNetTrainer.Evaluate(model, validation, options.ResolveInput(model.Options.InChannels), batchSize: 4);

        Assert.Equal(before, statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Should_refuse_widths_that_oneDNN_gets_wrong_on_AVX512()
    {
        using var narrow = new ResNetModel(TinyOptions() with { StemWidth = 8, StageWidths = [16, 24] });
        using var tiny = new ResNetModel(TinyOptions());
        bool affected = System.Runtime.Intrinsics.X86.Avx512F.IsSupported;

        Assert.Equal(affected ? "layer2.0.conv1" : null, OneDnnChannelCheck.FindUnsafeConvolution(narrow, CPU, bfloat16: false, maxIsa: null));
        Assert.Equal(affected ? "conv1" : null, OneDnnChannelCheck.FindUnsafeConvolution(narrow, CPU, bfloat16: true, maxIsa: null));
        Assert.Null(OneDnnChannelCheck.FindUnsafeConvolution(narrow, CPU, bfloat16: false, maxIsa: "AVX2"));
        Assert.Null(OneDnnChannelCheck.FindUnsafeConvolution(tiny, CPU, bfloat16: true, maxIsa: null));
        if (affected && Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") is null)
        {
            using var data = Quadrants(8, seed: 16);
            var error = Assert.Throws<ArgumentException>(() => ResNetTrainer.Train(narrow, data, null, FastOptions()));
            Assert.Contains("'layer2.0.conv1'", error.Message);
            Assert.Contains("multiple of 16", error.Message);
        }
    }

    [Fact]
    public void Should_evaluate_probabilities_that_sum_to_one()
    {
        var factory = new ModelFactory(TinyOptions(inChannels: 1));
        using var model = factory.Create();
        using var data = Quadrants(10, seed: 14, channels: 3, size: 12); // RGB images into a grayscale model, resized to 16

        var (loss, accuracy, probabilities) = ResNetTrainer.Evaluate(model, data, new ImageModelInput { ImageSize = 16 }, batchSize: 4);

        Assert.Equal(10 * 4, probabilities.Length);
        for (int i = 0; i < 10; i++)
            Assert.Equal(1.0, probabilities.AsSpan(i * 4, 4).ToArray().Sum(), tolerance: 1e-5);
        Assert.True(double.IsFinite(loss) && accuracy is >= 0 and <= 1);
    }

    [Fact]
    public void Should_reject_a_model_and_data_that_do_not_fit()
    {
        using var model = ResNet.MLNet.Models.ResNetModels.Build(TinyOptions(classes: 3), seed: 1);
        using var data = Quadrants(8, seed: 15);
        var wrongClasses = Assert.Throws<ArgumentException>(() => ResNetTrainer.Train(model, data, null, FastOptions()));
        Assert.Contains("ResetClassifier(4)", wrongClasses.Message);

        model.ResetClassifier(4);
        var options = FastOptions();
        options.EarlyStopping = EarlyStoppingMetric.ValidationLoss;
        Assert.Equal("validation", Assert.Throws<ArgumentException>(() => ResNetTrainer.Train(model, data, null, options)).ParamName);
        options.EarlyStopping = null;
        options.Freeze = FreezeMode.AllButLastStages;
        options.TrainLastStages = 3;
        Assert.Equal(nameof(TrainingOptions.TrainLastStages), Assert.Throws<ArgumentException>(() => ResNetTrainer.Train(model, data, null, options)).ParamName);
    }
}
