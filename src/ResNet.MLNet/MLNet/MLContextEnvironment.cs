using Microsoft.ML.Runtime;
using ResNet.MLNet.Training;

namespace ResNet.MLNet;

/// <summary>
/// The MLContext behind an ML.NET catalog, for what ML.NET's own components take from it: a seed for network
/// initialization and data order (so <c>new MLContext(seed)</c> makes our components deterministic like ML.NET's), and
/// the log (<c>MLContext.Log</c>) our messages go to. This is the library's one use of an ML.NET internal: ML.NET gives a
/// catalog's environment only to its own assemblies (the internal interface <c>Microsoft.ML.Data.IInternalCatalog</c>,
/// which every catalog implements), and offers no public way from a catalog to its context. Should a later ML.NET hide
/// it differently, components fall back to seed 0 and write no log lines (and <c>MLContextEnvironmentTests</c> fail).
/// </summary>
internal static class MLContextEnvironment
{
    private const string InternalCatalog = "Microsoft.ML.Data.IInternalCatalog";

    /// <summary>The seed used when no MLContext can be found: fixed, so that runs stay reproducible.</summary>
    public const long FallbackSeed = 0;

    /// <summary>A seed that is the same for every MLContext created with the same seed (ML.NET's own rule: <c>Register(...).Rand</c>).</summary>
    public static long Seed(object catalog, string component) =>
        Find(catalog) is { } environment ? environment.Register(component).Rand.NextInt64() : FallbackSeed;

    /// <summary>Writes a warning to the MLContext's log (<c>MLContext.Log</c> subscribers see it), as ML.NET's components do.</summary>
    public static void Warning(object catalog, string component, string message)
    {
        if (Find(catalog) is not { } environment)
            return;
        using var channel = environment.Register(component).Start(component);
        channel.Warning(MessageSensitivity.None, message);
    }

    /// <summary>Writes an information line to the MLContext's log.</summary>
    public static void Info(object catalog, string component, string message)
    {
        if (Find(catalog) is not { } environment)
            return;
        using var channel = environment.Register(component).Start(component);
        channel.Info(MessageSensitivity.None, message);
    }

    /// <summary>
    /// Training progress for the MLContext's log: one information line per completed epoch (loss, accuracy,
    /// validation, learning rate, time), as ML.NET's trainers report theirs, passed on to <paramref name="inner"/> too.
    /// Returns <paramref name="inner"/> itself when the catalog has no MLContext behind it.
    /// </summary>
    public static IProgress<TrainingProgress>? LogEpochs(object catalog, string component, IProgress<TrainingProgress>? inner)
    {
        if (Find(catalog) is not { } environment)
            return inner;
        var host = environment.Register(component);
        return new EpochLog(host, component, inner);
    }

    /// <summary>Reports synchronously on the training thread: every step to the caller's progress, each epoch to the log.</summary>
    private sealed class EpochLog(IHost host, string component, IProgress<TrainingProgress>? inner) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            inner?.Report(value);
            if (value.Event != TrainingEvent.EpochCompleted || value.EpochMetrics is not { } m)
                return;
            using var channel = host.Start(component);
            string held = m.ValidationAccuracy is { } va ? $", validation loss {m.ValidationLoss:F4} accuracy {va:F4}" : "";
            channel.Info(MessageSensitivity.None, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"epoch {m.Epoch}/{value.TotalEpochs}: loss {m.TrainLoss:F4} accuracy {m.TrainAccuracy:F4}{held}, learning rate {m.LearningRate:G3}, {m.Seconds:F1} s, {m.ImagesPerSecond:F0} images/s"));
        }
    }

    /// <summary>The catalog's environment through ML.NET's internal catalog interface; null when it is not there.</summary>
    internal static IHostEnvironment? Find(object catalog)
    {
        if (catalog is IHostEnvironment direct)
            return direct;
        var contract = catalog.GetType().GetInterfaces().FirstOrDefault(i => i.FullName == InternalCatalog);
        return contract?.GetProperty("Environment")?.GetValue(catalog) as IHostEnvironment;
    }
}
