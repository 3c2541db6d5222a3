namespace ResNet.MLNet.Training;

/// <summary>What a <see cref="TrainingProgress"/> report marks.</summary>
public enum TrainingEvent
{
    /// <summary>An optimizer step finished.</summary>
    StepCompleted,
    /// <summary>An epoch finished, including validation and the checkpoint.</summary>
    EpochCompleted,
}

/// <summary>The metrics of one completed epoch.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="TrainLoss">Mean training loss over the epoch's images (with label smoothing, as optimized).</param>
/// <param name="TrainAccuracy">Fraction of the epoch's (augmented) training images classified correctly during training.</param>
/// <param name="ValidationLoss">Mean cross-entropy (without label smoothing) on the validation set; null without one.</param>
/// <param name="ValidationAccuracy">Validation accuracy; null without a validation set.</param>
/// <param name="LearningRate">The head's learning rate at the epoch's last step.</param>
/// <param name="Seconds">Wall time of the epoch, validation included.</param>
/// <param name="ImagesPerSecond">Training images per second (forward, backward and update).</param>
public sealed record EpochMetrics(int Epoch, double TrainLoss, double TrainAccuracy, double? ValidationLoss, double? ValidationAccuracy,
    double LearningRate, double Seconds, double ImagesPerSecond);

/// <summary>A progress report of <see cref="ResNetTrainer.Train"/>.</summary>
/// <param name="Event">What finished.</param>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="TotalEpochs">Epochs of the whole run.</param>
/// <param name="Step">1-based step within the epoch (<paramref name="StepsPerEpoch"/> at the end of an epoch).</param>
/// <param name="StepsPerEpoch">Steps in every epoch.</param>
/// <param name="Loss">Mean training loss of the epoch so far.</param>
/// <param name="Accuracy">Training accuracy of the epoch so far.</param>
/// <param name="LearningRate">The head's learning rate of the latest step.</param>
/// <param name="ImagesPerSecond">Training throughput of the epoch so far.</param>
/// <param name="EpochMetrics">With <see cref="TrainingEvent.EpochCompleted"/>: the epoch's metrics, validation included; else null.</param>
public sealed record TrainingProgress(TrainingEvent Event, int Epoch, int TotalEpochs, int Step, int StepsPerEpoch, double Loss, double Accuracy,
    double LearningRate, double ImagesPerSecond, EpochMetrics? EpochMetrics)
{
    /// <summary>Loss of the latest batch alone (with <see cref="TrainingEvent.StepCompleted"/>); the epoch's mean otherwise.</summary>
    public double BatchLoss { get; init; }
}
