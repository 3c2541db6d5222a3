using ResNet.MLNet.Native;
using TorchSharp;
using ResNet.MLNet.Models;
using static TorchSharp.torch;

namespace ResNet.MLNet.Training;

/// <summary>
/// Trains and evaluates a <see cref="ResNetModel"/> on an <see cref="ImageDataset"/> (in memory or streamed from files): the training engine under the
/// ML.NET trainer and the CLI. Deterministic on the CPU for a given model, data and <see cref="TrainingOptions.Seed"/>.
/// </summary>
public static class ResNetTrainer
{
    /// <summary>
    /// Trains <paramref name="model"/> in place (moving it to <see cref="TrainingOptions.Device"/>) and returns what
    /// happened. The model ends in evaluation mode with its parameters' <c>requires_grad</c> flags as they were, holding
    /// the best epoch's weights with early stopping and the last completed epoch's otherwise (a cancelled, unfinished
    /// epoch is rolled back).
    /// </summary>
    /// <param name="model">A network with a classifier head of <paramref name="train"/>.NumClasses classes.</param>
    /// <param name="train">Training images.</param>
    /// <param name="validation">Validation images, evaluated after every epoch; null for none (then early stopping is unavailable).</param>
    /// <param name="options">Everything else.</param>
    /// <exception cref="ArgumentException">An option is invalid (the message names it), or the model, data and options do not fit together.</exception>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite; the message names the epoch and step.</exception>
    /// <exception cref="InvalidDataException">With <see cref="TrainingOptions.Resume"/>: the checkpoint is damaged or belongs to another model.</exception>
    public static TrainingResult Train(ResNetModel model, ImageDataset train, ImageDataset? validation, TrainingOptions options)
    {
        var device = Prepare(model, train, validation, options);
        using var session = new TrainingSession(model, train, validation, options, device);
        return session.Run();
    }

    /// <summary>
    /// The learning-rate finder (Smith 2015, fastai's <c>lr_find</c>): trains one batch per learning rate, from
    /// <see cref="LearningRateFinderOptions.StartLearningRate"/> up exponentially, with <paramref name="options"/>'
    /// optimizer, augmentation and freezing (the first epoch's), until the loss explodes; then puts the weights back.
    /// Read the suggestion off <see cref="LearningRateFinding.Steepest"/> and set it as <see cref="TrainingOptions.LearningRate"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An option is invalid, the data does not fit the model, or it holds fewer images than a batch (named).</exception>
    /// <exception cref="TrainingDivergedException">The loss was not finite from the first step.</exception>
    public static LearningRateFinding FindLearningRate(ResNetModel model, ImageDataset train, TrainingOptions options, LearningRateFinderOptions? finder = null)
    {
        finder ??= new LearningRateFinderOptions();
        finder.Validate();
        var device = Prepare(model, train, null, options);
        if (train.Count < options.BatchSize)
            throw new ArgumentException($"The learning-rate finder needs at least one full batch: {train.Count} images, batch size {options.BatchSize}.", nameof(train));
        using var session = new TrainingSession(model, train, null, options, device);
        return session.FindLearningRate(finder);
    }

    /// <summary>Checks the model, data and options fit together; returns the device.</summary>
    private static Device Prepare(ResNetModel model, ImageDataset train, ImageDataset? validation, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        TorchRuntime.EnsureInitialized();
        CheckFit(model, train, nameof(train));
        if (validation is not null)
            CheckFit(model, validation, nameof(validation));
        if (train.Count < 2)
            throw new ArgumentException($"Training needs at least 2 images (BatchNorm normalizes over the batch); got {train.Count}.", nameof(train));
        if (options.EarlyStopping is not null && validation is null)
            throw new ArgumentException($"{nameof(TrainingOptions.EarlyStopping)} needs a validation set.", nameof(validation));
        if (options.Freeze == FreezeMode.AllButLastStages && options.TrainLastStages > model.NumStages)
            throw new ArgumentException(
                $"{nameof(TrainingOptions.TrainLastStages)} = {options.TrainLastStages} exceeds the {model.NumStages} stages of {model.Options.Name}.",
                nameof(TrainingOptions.TrainLastStages));
        var device = new Device(options.Device);
        if (device.type == DeviceType.CUDA && !cuda.is_available())
            throw new ArgumentException($"{nameof(TrainingOptions.Device)} is '{options.Device}' but CUDA is not available (reference a CUDA libtorch backend).", nameof(TrainingOptions.Device));

        OneDnnChannelCheck.Check(model, device, options.MixedPrecisionBFloat16);
        return device;
    }

    /// <summary>
    /// Evaluates <paramref name="model"/> on its current device, in evaluation mode and without augmentation: mean
    /// cross-entropy (no label smoothing), accuracy, and the softmax probabilities of every image (N x K, row-major).
    /// The model's training mode is restored afterwards.
    /// </summary>
    /// <exception cref="ArgumentException">The model's classes differ from the data's, or the preprocessing does not fit the model.</exception>
    public static (double Loss, double Accuracy, float[] Probabilities) Evaluate(ResNetModel model, ImageDataset data, ImageModelInput input, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        input.Validate();
        CheckFit(model, data, nameof(data));
        var device = model.parameters().First().device;
        var defaults = new TrainingOptions(); // the decoding workers and prefetch of image files, as in training
        using var reader = new BatchReader(data, input, model.Options.InChannels, Augmentation.None, device, defaults.Workers, defaults.Prefetch);
        return Evaluate(model, reader, batchSize, ScalarType.Float32);
    }

    /// <summary>Evaluation through a prepared reader; the network computes in <paramref name="computeType"/>, the loss in float32.</summary>
    internal static (double Loss, double Accuracy, float[] Probabilities) Evaluate(ResNetModel model, BatchReader reader, int batchSize, ScalarType computeType)
    {
        bool training = model.training;
        model.eval();
        try
        {
            using var feed = reader.Evaluation(batchSize);
            return Score(reader.Data.Count, model.NumClasses, batchSize,
                k =>
                {
                    var (x, labels) = feed.Next(k);
                    return (model.forward(x.to_type(computeType)).to_type(ScalarType.Float32), labels);
                });
        }
        finally
        {
            model.train(training);
        }
    }

    /// <summary>
    /// Mean cross-entropy, accuracy and softmax probabilities of <paramref name="count"/> rows whose logits and labels
    /// <paramref name="batch"/> gives, batch by batch in order, without gradients.
    /// </summary>
    internal static (double Loss, double Accuracy, float[] Probabilities) Score(int count, int classes, int batchSize, Func<int, (Tensor Logits, long[] Labels)> batch)
    {
        var probabilities = new float[(long)count * classes];
        double lossSum = 0;
        long correct = 0;
        using var noGrad = no_grad();
        for (int k = 0, start = 0; start < count; k++, start += batchSize)
        {
            using var scope = NewDisposeScope();
            var (logits, labelValues) = batch(k);
            var labels = tensor(labelValues, device: logits.device);
            lossSum += nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).item<float>();
            correct += logits.argmax(1).eq(labels).sum().item<long>();
            nn.functional.softmax(logits, 1).cpu().data<float>().CopyTo(probabilities.AsSpan(start * classes, labelValues.Length * classes));
        }
        return (lossSum / count, (double)correct / count, probabilities);
    }

    private static void CheckFit(ResNetModel model, ImageDataset data, string parameter)
    {
        if (model.NumClasses == 0)
            throw new ArgumentException($"The model {model.Options.Name} has no classifier head; call ResetClassifier({data.NumClasses}) first.", nameof(model));
        if (model.NumClasses != data.NumClasses)
            throw new ArgumentException(
                $"The model's head has {model.NumClasses} classes but the data has {data.NumClasses}; call ResetClassifier({data.NumClasses}) to fit the head.", parameter);
    }
}
