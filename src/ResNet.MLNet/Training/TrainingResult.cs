namespace ResNet.MLNet.Training;

/// <summary>What <see cref="ResNetTrainer.Train"/> did. The model itself holds the resulting weights.</summary>
public sealed class TrainingResult
{
    internal TrainingResult(IReadOnlyList<EpochMetrics> history, int bestEpoch, bool stoppedEarly, bool cancelled, int resumedFromEpoch, string? checkpointPath)
    {
        History = history;
        BestEpoch = bestEpoch;
        StoppedEarly = stoppedEarly;
        Cancelled = cancelled;
        ResumedFromEpoch = resumedFromEpoch;
        CheckpointPath = checkpointPath;
    }

    /// <summary>Metrics of every completed epoch, including those of a run this one resumed.</summary>
    public IReadOnlyList<EpochMetrics> History { get; }

    /// <summary>
    /// The epoch (1-based) whose weights the model holds at the end: the best by the early-stopping metric when early
    /// stopping is on, else the last completed one; 0 when no epoch completed.
    /// </summary>
    public int BestEpoch { get; }

    /// <summary>Early stopping ended training before the last epoch.</summary>
    public bool StoppedEarly { get; }

    /// <summary>
    /// The cancellation token stopped training at a step boundary. The unfinished epoch was rolled back: the model holds
    /// the last completed epoch's weights (the best epoch's with early stopping), as the checkpoint does.
    /// </summary>
    public bool Cancelled { get; }

    /// <summary>Completed epochs loaded from a checkpoint before training continued; 0 for a fresh run.</summary>
    public int ResumedFromEpoch { get; }

    /// <summary>The last checkpoint written or resumed from; null without a checkpoint directory.</summary>
    public string? CheckpointPath { get; }

    /// <summary>
    /// What the run computed in: "float32", or bfloat16 mixed precision and whether the CPU runs it natively (see
    /// <see cref="BFloat16Support"/>); emulation is said, never silent.
    /// </summary>
    public string Precision { get; internal init; } = "float32";

    /// <summary>Metrics of the epoch whose weights the model holds, or null when no epoch completed.</summary>
    public EpochMetrics? Best => BestEpoch > 0 ? History[BestEpoch - 1] : null;
}
