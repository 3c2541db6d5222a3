using ResNet.MLNet.Training;
using Spectre.Console;

namespace ResNet.MLNet.Cli;

/// <summary>Live training progress: an epoch bar and a step bar with loss, accuracy, learning rate, images/s and ETA.</summary>
internal static class TrainingProgressView
{
    public static void Run(IAnsiConsole console, TrainingOptions training, Action job)
    {
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var epochs = context.AddTask("epochs", maxValue: training.Epochs);
                var steps = context.AddTask("steps");
                var user = training.Progress;
                training.Progress = new Progress(p =>
                {
                    user?.Report(p);
                    steps.MaxValue = p.StepsPerEpoch;
                    steps.Value = p.Event == TrainingEvent.EpochCompleted ? p.StepsPerEpoch : p.Step;
                    steps.Description = $"epoch {p.Epoch}/{p.TotalEpochs}  loss {p.Loss:F3}  acc {p.Accuracy:P0}  lr {p.LearningRate:G2}  {p.ImagesPerSecond:F0} img/s";
                    if (p.Event == TrainingEvent.EpochCompleted && p.EpochMetrics is { } m)
                    {
                        epochs.Value = p.Epoch;
                        string validation = m.ValidationAccuracy is { } va ? $"  val acc {va:P1}" : "";
                        console.MarkupLine($"epoch {m.Epoch}: loss {m.TrainLoss:F3}  acc {m.TrainAccuracy:P1}{validation}  {m.Seconds:F1} s  {m.ImagesPerSecond:F0} img/s");
                    }
                });
                try
                {
                    job();
                }
                finally
                {
                    training.Progress = user;
                }
            });
    }

    /// <summary>Reports synchronously on the training thread (System.Progress would post to the thread pool).</summary>
    private sealed class Progress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
