namespace ResNet.MLNet.Training;

/// <summary>
/// The training loss became NaN or infinite. The step's update was not applied, and the last checkpoint (of the last
/// completed epoch) is left as it was; lower the learning rate or check the data, then resume.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception for <paramref name="epoch"/> and <paramref name="step"/>.</summary>
    public TrainingDivergedException(int epoch, int step, double loss, string? checkpointPath)
        : base($"Training diverged: the loss is {loss} at epoch {epoch}, step {step}. Lower the learning rate or check the data. " +
               (checkpointPath is null ? "No checkpoint was written (no checkpoint directory)." : $"The last good checkpoint is intact: {checkpointPath}."))
    {
        Epoch = epoch;
        Step = step;
        Loss = loss;
    }

    /// <summary>1-based epoch of the failing step.</summary>
    public int Epoch { get; }

    /// <summary>1-based step within the epoch.</summary>
    public int Step { get; }

    /// <summary>The non-finite loss.</summary>
    public double Loss { get; }
}
