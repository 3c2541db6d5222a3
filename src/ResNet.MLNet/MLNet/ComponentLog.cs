using Microsoft.ML;
using Microsoft.ML.Runtime;
using ResNet.MLNet.Training;
using static System.FormattableString;

namespace ResNet.MLNet;

/// <summary>
/// Where a component's messages go: the <c>Log</c> handler of its options, called with the same
/// <see cref="LoggingEventArgs"/> that <c>MLContext.Log</c> raises (so one handler can serve both). ML.NET offers no public
/// way from a catalog to the MLContext behind it, so the library does not write to <c>MLContext.Log</c> itself.
/// </summary>
internal sealed class ComponentLog(EventHandler<LoggingEventArgs>? handler, string source)
{
    /// <summary>Reports a warning (<see cref="ChannelMessageKind.Warning"/>).</summary>
    public void Warning(string message) => handler?.Invoke(null, new LoggingEventArgs(message, ChannelMessageKind.Warning, source));

    /// <summary>Reports an information line (<see cref="ChannelMessageKind.Info"/>).</summary>
    public void Info(string message) => handler?.Invoke(null, new LoggingEventArgs(message, ChannelMessageKind.Info, source));

    /// <summary>
    /// Training progress that also reports one information line per completed epoch (loss, accuracy, validation,
    /// learning rate, time), as ML.NET's trainers report theirs; every event goes on to <paramref name="inner"/>.
    /// Returns <paramref name="inner"/> itself when there is no handler.
    /// </summary>
    public IProgress<TrainingProgress>? WithEpochs(IProgress<TrainingProgress>? inner) =>
        handler is null ? inner : new EpochLines(this, inner);

    /// <summary>Reports synchronously on the training thread: every step to the caller's progress, each epoch to the log.</summary>
    private sealed class EpochLines(ComponentLog log, IProgress<TrainingProgress>? inner) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            inner?.Report(value);
            if (value.Event != TrainingEvent.EpochCompleted || value.EpochMetrics is not { } m)
                return;
            string held = m.ValidationAccuracy is { } va ? Invariant($", validation loss {m.ValidationLoss:F4} accuracy {va:F4}") : "";
            log.Info(Invariant(
                $"epoch {m.Epoch}/{value.TotalEpochs}: loss {m.TrainLoss:F4} accuracy {m.TrainAccuracy:F4}{held}, learning rate {m.LearningRate:G3}, {m.Seconds:F1} s, {m.ImagesPerSecond:F0} images/s"));
        }
    }
}
