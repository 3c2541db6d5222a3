using ResNet.MLNet.Training;
using Spectre.Console;

namespace ResNet.MLNet.Cli;

/// <summary>
/// Training progress: on an interactive terminal, live epoch and step bars with loss, accuracy, learning rate,
/// images/s and ETA; when output is redirected, one line per epoch and nothing else.
/// </summary>
internal static class TrainingProgressView
{
    /// <param name="heldOutLabel">How the held-out split's accuracy is labelled in epoch lines ("val", "test").</param>
    public static void Run(IAnsiConsole console, TrainingOptions training, Action job, string heldOutLabel = "val")
    {
        void EpochLine(EpochMetrics m)
        {
            string heldOut = m.ValidationAccuracy is { } va ? $"  {heldOutLabel} acc {va:P1}" : "";
            console.MarkupLine($"epoch {m.Epoch}: loss {m.TrainLoss:F3}  acc {m.TrainAccuracy:P1}{heldOut}  {m.Seconds:F1} s  {m.ImagesPerSecond:F0} img/s");
        }

        var user = training.Progress;
        Action<TrainingProgress>? bars = null;
        training.Progress = new Progress(p =>
        {
            user?.Report(p);
            bars?.Invoke(p);
            if (p.Event == TrainingEvent.EpochCompleted && p.EpochMetrics is { } m)
                EpochLine(m);
        });
        try
        {
            if (!console.Profile.Capabilities.Interactive)
            {
                job(); // redirected: bars would print every refresh as a new line
                return;
            }
            console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    var epochs = context.AddTask("epochs", maxValue: training.Epochs);
                    var steps = context.AddTask("steps");
                    bars = p =>
                    {
                        steps.MaxValue = p.StepsPerEpoch;
                        steps.Value = p.Event == TrainingEvent.EpochCompleted ? p.StepsPerEpoch : p.Step;
                        steps.Description = $"epoch {p.Epoch}/{p.TotalEpochs}  loss {p.Loss:F3}  acc {p.Accuracy:P0}  lr {p.LearningRate:G2}  {p.ImagesPerSecond:F0} img/s";
                        if (p.Event == TrainingEvent.EpochCompleted)
                            epochs.Value = p.Epoch;
                    };
                    job();
                });
        }
        finally
        {
            training.Progress = user;
        }
    }

    /// <summary>Reports synchronously on the training thread (System.Progress would post to the thread pool).</summary>
    private sealed class Progress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
