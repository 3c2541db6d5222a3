using System.Diagnostics;
using ResNet.MLNet.Weights;
using TorchSharp;
using ResNet.MLNet.Models;
using static TorchSharp.torch;

namespace ResNet.MLNet.Training;

/// <summary>
/// One call of <see cref="ResNetTrainer.Train"/>: the epoch loop with its optimizer, schedule, freezing, validation,
/// early stopping, checkpoints and progress reports. Every step runs in its own dispose scope; the tensors kept across
/// steps (optimizer state, snapshots, the bfloat16 copy) are allocated once and freed with the session.
/// </summary>
internal sealed class TrainingSession : IDisposable
{
    private readonly ResNetModel model;
    private readonly ImageDataset train;
    private readonly ImageDataset? validation;
    private readonly TrainingOptions options;
    private readonly Device device;
    private readonly ModelParts parts;
    private readonly Optimizer optimizer;
    private readonly BatchReader trainReader;
    private readonly BatchReader? validationReader;
    private readonly BFloat16Compute? bfloat16;
    private readonly bool[] requiresGrad;
    private readonly int stepsPerEpoch;
    private readonly List<EpochMetrics> history = [];

    /// <summary>The weights at the end of the last completed epoch, restored when a later epoch is cancelled.</summary>
    private WeightsSnapshot? lastCompleted;
    private WeightsSnapshot? best;
    private int bestEpoch;
    private double? bestMetric;
    private int epochsWithoutImprovement;
    private bool stoppedEarly;
    private int resumedFrom;
    private string? checkpointPath;

    /// <summary>Pooled features of the frozen backbone (<see cref="TrainingOptions.CacheFrozenFeatures"/>), by row; null when not cached.</summary>
    private FeatureCache? trainFeatures, validationFeatures;

    public TrainingSession(ResNetModel model, ImageDataset train, ImageDataset? validation, TrainingOptions options, Device device)
    {
        this.model = model;
        this.train = train;
        this.validation = validation;
        this.options = options;
        this.device = device;
        if (model.parameters().First().device != device)
            model.to(device);
        parts = new ModelParts(model);
        requiresGrad = parts.Parameters.Select(p => p.Parameter.requires_grad).ToArray();
        int channels = model.Options.InChannels;
        var input = options.ResolveInput(channels);
        trainReader = new BatchReader(train, input, channels, options.Augmentation, device, options.Workers, options.Prefetch);
        if (validation is not null)
            validationReader = new BatchReader(validation, input, channels, options.Augmentation, device, options.Workers, options.Prefetch);
        optimizer = new Optimizer(parts, options);
        if (options.MixedPrecisionBFloat16)
            bfloat16 = new BFloat16Compute(model, device);
        int batchSize = options.BatchSize;
        // A trailing batch of one image is dropped: BatchNorm cannot normalize a single value per channel.
        stepsPerEpoch = train.Count / batchSize + (train.Count % batchSize >= 2 ? 1 : 0);
    }

    private string? CheckpointDirectory => string.IsNullOrWhiteSpace(options.CheckpointDirectory) ? null : options.CheckpointDirectory;

    public TrainingResult Run()
    {
        bool cancelled = false;
        try
        {
            int start = options.Resume ? LoadCheckpoint() : 0;
            lastCompleted = WeightsSnapshot.Of(model);
            for (int epoch = start; epoch < options.Epochs && !stoppedEarly; epoch++)
            {
                var stopwatch = Stopwatch.StartNew();
                var trained = TrainEpoch(epoch);
                if (trained is null)
                {
                    cancelled = true;
                    lastCompleted.Restore(model);
                    break;
                }
                bfloat16?.PushBuffers();
                var metrics = Validate(trained.Value, stopwatch);
                history.Add(metrics);
                UpdateBest(metrics);
                lastCompleted.Update(model);
                if (CheckpointDirectory is not null)
                    checkpointPath = WriteCheckpoint(CheckpointDirectory);
                options.Progress?.Report(new TrainingProgress(TrainingEvent.EpochCompleted, metrics.Epoch, options.Epochs, stepsPerEpoch, stepsPerEpoch,
                    metrics.TrainLoss, metrics.TrainAccuracy, metrics.LearningRate, metrics.ImagesPerSecond, metrics) { BatchLoss = metrics.TrainLoss });
            }
        }
        finally
        {
            RestoreTrainable();
        }
        if (options.EarlyStopping is not null && best is not null)
            best.Restore(model);
        int holds = options.EarlyStopping is not null ? bestEpoch : history.Count;
        return new TrainingResult(history.ToArray(), holds, stoppedEarly, cancelled, resumedFrom, checkpointPath)
        {
            Precision = BFloat16Support.Describe(options.MixedPrecisionBFloat16, options.Device),
        };
    }

    /// <summary>
    /// The learning-rate sweep: one step per learning rate, increasing exponentially, with the parts trainable in the
    /// first epoch; the weights, buffers and trainable flags are restored afterwards.
    /// </summary>
    public LearningRateFinding FindLearningRate(LearningRateFinderOptions finder)
    {
        const double beta = 0.98;
        var rates = new List<double>();
        var losses = new List<double>();
        bool diverged = false;
        using var start = WeightsSnapshot.Of(model);
        BatchReader.Feed? feed = null;
        try
        {
            parts.SetTrainable(model, parts.TrainableDistance(options, 0));
            var augmentationRandom = RandomSource.For(options.Seed, 0, stream: 1);
            double average = 0, best = double.PositiveInfinity;
            for (int step = 0; step < finder.Steps; step++)
            {
                options.CancellationToken.ThrowIfCancellationRequested();
                int within = step % stepsPerEpoch;
                if (within == 0)
                {
                    feed?.Dispose();
                    int epoch = step / stepsPerEpoch;
                    feed = OpenEpoch(EpochOrder(epoch), epoch, augmentationRandom);
                }
                double lr = finder.StartLearningRate * Math.Pow(finder.EndLearningRate / finder.StartLearningRate, (double)step / (finder.Steps - 1));
                double loss;
                try
                {
                    using var scope = NewDisposeScope();
                    var (x, labels) = feed!.Next(within);
                    (loss, _) = Step(x, labels, embeddings: false, lr, 0, step);
                }
                catch (TrainingDivergedException)
                {
                    diverged = true;
                    break;
                }
                average = beta * average + (1 - beta) * loss;
                double smoothed = average / (1 - Math.Pow(beta, step + 1));
                rates.Add(lr);
                losses.Add(smoothed);
                best = Math.Min(best, smoothed);
                if (step > 0 && smoothed > finder.DivergenceFactor * best)
                {
                    diverged = true;
                    break;
                }
            }
        }
        finally
        {
            feed?.Dispose();
            start.Restore(model);
            RestoreTrainable();
        }
        if (rates.Count < 2)
            throw new TrainingDivergedException(1, rates.Count + 1, double.NaN, null);
        return LearningRateFinding.From(rates, losses, diverged);
    }

    /// <summary>After training: every parameter's trainable flag as it was, no gradients kept, the network in eval mode.</summary>
    private void RestoreTrainable()
    {
        foreach (var ((_, parameter, _), flag) in parts.Parameters.Zip(requiresGrad))
        {
            parameter.grad = null;
            parameter.requires_grad = flag;
        }
        model.eval();
    }

    /// <summary>The permutation of the training rows that <paramref name="epoch"/> visits, from the seed alone.</summary>
    private int[] EpochOrder(int epoch)
    {
        int[] order = Enumerable.Range(0, train.Count).ToArray();
        RandomSource.For(options.Seed, epoch, stream: 0).Shuffle(order);
        return order;
    }

    /// <summary>The training batches of <paramref name="epoch"/> in <paramref name="order"/>, read through the reader.</summary>
    private BatchReader.Feed OpenEpoch(int[] order, int epoch, RandomSource augmentationRandom) =>
        trainReader.Training(order, stepsPerEpoch, options.BatchSize, options.Seed, epoch, augmentationRandom);

    /// <summary>Runs the steps of one epoch; null when cancelled before its end.</summary>
    private (double Loss, double Accuracy, double LearningRate, double ImagesPerSecond)? TrainEpoch(int epoch)
    {
        int trainable = parts.TrainableDistance(options, epoch);
        parts.SetTrainable(model, trainable);
        if (bfloat16 is not null)
        {
            bfloat16.Parts.SetTrainable(bfloat16.Model, trainable);
            bfloat16.PullAll();
        }
        var augmentationRandom = RandomSource.For(options.Seed, epoch, stream: 1);
        bool cached;
        try
        {
            cached = UpdateFeatureCache(trainable) && trainFeatures is not null;
        }
        catch (OperationCanceledException) when (options.CancellationToken.IsCancellationRequested)
        {
            return null;
        }
        int[] order = EpochOrder(epoch);
        using var feed = cached ? null : OpenEpoch(order, epoch, augmentationRandom);

        double lossSum = 0, lr = 0;
        long correct = 0, seen = 0;
        var stopwatch = Stopwatch.StartNew();
        for (int step = 0; step < stepsPerEpoch; step++)
        {
            if (options.CancellationToken.IsCancellationRequested)
                return null;
            lr = LearningRateSchedule.At(options, epoch, step, stepsPerEpoch);
            double loss;
            long right;
            int count;
            using (NewDisposeScope())
            {
                var (x, labels) = cached ? CachedBatch(order, step) : feed!.Next(step);
                count = labels.Length;
                (loss, right) = Step(x, labels, cached, lr, epoch, step);
            }
            lossSum += loss * count;
            correct += right;
            seen += count;
            double imagesPerSecond = seen / stopwatch.Elapsed.TotalSeconds;
            options.Progress?.Report(new TrainingProgress(TrainingEvent.StepCompleted, epoch + 1, options.Epochs, step + 1, stepsPerEpoch,
                lossSum / seen, (double)correct / seen, lr, imagesPerSecond, null) { BatchLoss = loss });
        }
        return (lossSum / seen, (double)correct / seen, lr, seen / stopwatch.Elapsed.TotalSeconds);
    }

    /// <summary>The cached features and labels of batch <paramref name="step"/> of <paramref name="order"/>.</summary>
    private (Tensor Features, long[] Labels) CachedBatch(int[] order, int step)
    {
        int from = step * options.BatchSize;
        var batch = order.AsSpan(from, Math.Min(options.BatchSize, order.Length - from));
        return (trainFeatures!.Gather(batch, device), train.LabelsAt(batch));
    }

    /// <summary>
    /// Keeps the frozen-feature cache in step with what trains: while only the head trains (and caching is on), the
    /// validation features, and the training features when augmentation is off, are computed once; once the backbone
    /// trains, the cache is freed. Returns whether only the head trains with caching on.
    /// </summary>
    private bool UpdateFeatureCache(int trainableDistance)
    {
        bool headOnly = options.CacheFrozenFeatures && trainableDistance == 0;
        if (!headOnly)
        {
            trainFeatures?.Dispose();
            validationFeatures?.Dispose();
            (trainFeatures, validationFeatures) = (null, null);
            return false;
        }
        if (trainFeatures is null && !options.Augmentation.IsEnabled)
            trainFeatures = Features(trainReader);
        if (validationFeatures is null && validationReader is not null)
            validationFeatures = Features(validationReader);
        return true;
    }

    /// <summary>
    /// The pooled features of every image of <paramref name="reader"/>, in row order, from the float32 network in
    /// evaluation mode; in memory within <see cref="TrainingOptions.FeatureCacheMemoryBudget"/>, else on disk.
    /// </summary>
    private FeatureCache Features(BatchReader reader)
    {
        bool training = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            using var feed = reader.Evaluation(options.BatchSize);
            IEnumerable<Tensor> Batches()
            {
                for (int k = 0; k * options.BatchSize < reader.Data.Count; k++)
                {
                    options.CancellationToken.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    yield return model.ForwardEmbedding(feed.Next(k).Input);
                }
            }
            return FeatureCache.Build(reader.Data.Count, Batches(), options.FeatureCacheMemoryBudget);
        }
        finally
        {
            model.train(training);
            if (training)
                parts.SetTrainable(model, 0);
        }
    }

    /// <summary>
    /// One forward, backward and update on images (or, with <paramref name="embeddings"/>, on cached features, through
    /// the head alone); returns the batch's mean loss and its count of correct predictions.
    /// </summary>
    /// <exception cref="TrainingDivergedException">The loss is not finite; no update was applied.</exception>
    private (double Loss, long Correct) Step(Tensor x, long[] labelValues, bool embeddings, double lr, int epoch, int step)
    {
        var labels = tensor(labelValues, device: device);
        Tensor logits;
        if (embeddings)
        {
            logits = model.ForwardClassifier(x);
        }
        else if (bfloat16 is null)
        {
            logits = model.forward(x);
        }
        else
        {
            bfloat16.PullTrainable();
            logits = bfloat16.Model.forward(x.to_type(ScalarType.BFloat16)).to_type(ScalarType.Float32);
        }
        var loss = nn.functional.cross_entropy(logits, labels, label_smoothing: options.LabelSmoothing);
        double value = loss.item<float>();
        if (!double.IsFinite(value))
            throw new TrainingDivergedException(epoch + 1, step + 1, value, checkpointPath);

        var computed = embeddings ? null : bfloat16;
        ClearGradients(computed?.Model ?? model);
        loss.backward();
        computed?.PushGradients();
        optimizer.Step(lr);
        return (value, logits.argmax(1).eq(labels).sum().item<long>());
    }

    private static void ClearGradients(ResNetModel network)
    {
        foreach (var parameter in network.parameters())
        {
            if (parameter.requires_grad)
                parameter.grad = null;
        }
    }

    private EpochMetrics Validate((double Loss, double Accuracy, double LearningRate, double ImagesPerSecond) trained, Stopwatch stopwatch)
    {
        double? loss = null, accuracy = null;
        if (validation is not null)
        {
            // With mixed precision, validation runs on the bfloat16 copy too: inference is about 5x faster there.
            bfloat16?.PullAll();
            var result = validationFeatures is { } features
                ? ResNetTrainer.Score(validation.Count, model.NumClasses, options.BatchSize, k =>
                {
                    int start = k * options.BatchSize, count = Math.Min(options.BatchSize, validation.Count - start);
                    int[] rows = Enumerable.Range(start, count).ToArray();
                    return (model.ForwardClassifier(features.Gather(rows, device)), validation.LabelsAt(rows));
                })
                : bfloat16 is null
                    ? ResNetTrainer.Evaluate(model, validationReader!, options.BatchSize, ScalarType.Float32)
                    : ResNetTrainer.Evaluate(bfloat16.Model, validationReader!, options.BatchSize, ScalarType.BFloat16);
            (loss, accuracy) = (result.Loss, result.Accuracy);
        }
        return new EpochMetrics(history.Count + 1, trained.Loss, trained.Accuracy, loss, accuracy, trained.LearningRate,
            stopwatch.Elapsed.TotalSeconds, trained.ImagesPerSecond);
    }

    private void UpdateBest(EpochMetrics metrics)
    {
        if (options.EarlyStopping is not { } watched)
            return;
        double value = watched == EarlyStoppingMetric.ValidationLoss ? metrics.ValidationLoss!.Value : metrics.ValidationAccuracy!.Value;
        bool improved = bestMetric is not { } previous
            || (watched == EarlyStoppingMetric.ValidationLoss ? value < previous : value > previous);
        if (improved)
        {
            bestMetric = value;
            bestEpoch = metrics.Epoch;
            epochsWithoutImprovement = 0;
            if (best is null)
                best = WeightsSnapshot.Of(model);
            else
                best.Update(model);
        }
        else if (++epochsWithoutImprovement >= options.Patience)
        {
            stoppedEarly = true;
        }
    }

    private string WriteCheckpoint(string directory)
    {
        bool storeBest = best is not null && bestEpoch < history.Count;
        var state = new CheckpointState
        {
            CompletedEpochs = history.Count,
            Architecture = model.Options.Name,
            NumClasses = model.NumClasses,
            Optimizer = options.Optimizer,
            Seed = options.Seed,
            History = history.ToArray(),
            BestEpoch = bestEpoch,
            BestMetric = bestMetric,
            EpochsWithoutImprovement = epochsWithoutImprovement,
            StoppedEarly = stoppedEarly,
            HasBestWeights = storeBest,
            Options = options.ResumeSensitive(),
        };
        var tensors = model.OrderedStateDict().Select(e => NamedTensor.FromTensor(TrainingCheckpoint.ModelPrefix + e.Key, e.Value))
            .Concat(optimizer.SaveState(TrainingCheckpoint.OptimizerPrefix));
        if (storeBest)
            tensors = tensors.Concat(best!.ToNamed(TrainingCheckpoint.BestPrefix));
        return TrainingCheckpoint.Write(directory, state, tensors, options.BeforeCheckpointCommit);
    }

    /// <summary>Restores the run from the last checkpoint; returns the completed epochs (0 when there is no checkpoint).</summary>
    private int LoadCheckpoint()
    {
        string directory = CheckpointDirectory!;
        var checkpoint = TrainingCheckpoint.Read(directory);
        if (checkpoint is null)
            return 0;
        var (state, tensors) = checkpoint.Value;
        string path = TrainingCheckpoint.PathIn(directory);
        if (state.Optimizer != options.Optimizer)
            throw new ArgumentException(
                $"{nameof(TrainingOptions.Optimizer)} is {options.Optimizer} but the checkpoint {path} was written with {state.Optimizer}; resume with the same optimizer.",
                nameof(TrainingOptions.Optimizer));
        if (state.Options is not null && !options.ResumeOverride)
        {
            var now = options.ResumeSensitive();
            var changed = now.Where(e => state.Options.TryGetValue(e.Key, out string? then) && then != e.Value)
                .Select(e => $"{e.Key} {state.Options[e.Key]} (now {e.Value})").ToList();
            if (changed.Count > 0)
                throw new ArgumentException(
                    $"The checkpoint {path} was written with other options: {string.Join(", ", changed)}. Resume with the same options, " +
                    $"or set {nameof(TrainingOptions.ResumeOverride)} (--resume-override) to continue with the new ones.",
                    nameof(TrainingOptions.ResumeOverride));
        }
        if (state.HasBestWeights)
        {
            LoadModel(tensors, TrainingCheckpoint.BestPrefix, path);
            best = WeightsSnapshot.Of(model);
        }
        LoadModel(tensors, TrainingCheckpoint.ModelPrefix, path);
        if (options.EarlyStopping is not null && state.BestEpoch > 0 && !state.HasBestWeights)
            best = WeightsSnapshot.Of(model);
        optimizer.LoadState(tensors, TrainingCheckpoint.OptimizerPrefix, path);
        history.AddRange(state.History);
        bestEpoch = state.BestEpoch;
        bestMetric = state.BestMetric;
        epochsWithoutImprovement = state.EpochsWithoutImprovement;
        stoppedEarly = state.StoppedEarly;
        resumedFrom = state.CompletedEpochs;
        checkpointPath = path;
        return state.CompletedEpochs;
    }

    private void LoadModel(IReadOnlyDictionary<string, NamedTensor> tensors, string prefix, string path)
    {
        var selected = tensors.Values.Where(t => t.Name.StartsWith(prefix, StringComparison.Ordinal)).Select(t => t.WithName(t.Name[prefix.Length..])).ToList();
        try
        {
            WeightsLoader.Load(model, selected, WeightsLoadOptions.Exact, $"{path} ({prefix}*)");
        }
        catch (WeightsMismatchException e)
        {
            throw new InvalidDataException($"{path}: the checkpoint does not fit the model {model.Options.Name}: {UserMessages.Of(e)}", e);
        }
    }

    public void Dispose()
    {
        optimizer.Dispose();
        trainReader.Dispose();
        validationReader?.Dispose();
        trainFeatures?.Dispose();
        validationFeatures?.Dispose();
        bfloat16?.Dispose();
        lastCompleted?.Dispose();
        best?.Dispose();
    }
}
