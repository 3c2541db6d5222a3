using System.Reflection;
using Microsoft.ML.Runtime;
using ResNet.MLNet.Training;

namespace ResNet.MLNet;

/// <summary>
/// The MLContext behind an ML.NET catalog, for what ML.NET's own components take from it: a seed for network
/// initialization and data order (so <c>new MLContext(seed)</c> makes our components deterministic like ML.NET's), and
/// the log (<c>MLContext.Log</c>) our warnings go to. ML.NET keeps the catalog's environment internal; it is found by
/// reflection over the catalog's fields (and its owner, for trainer catalogs).
/// </summary>
internal static class MLContextEnvironment
{
    private const BindingFlags Instance = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;

    /// <summary>A seed that is the same for every MLContext created with the same seed; random where it has none.</summary>
    public static long Seed(object catalog, string component)
    {
        var environment = Find(catalog, depth: 0);
        return environment is null ? Random.Shared.NextInt64() : environment.Register(component).Rand.NextInt64();
    }

    /// <summary>Writes a warning to the MLContext's log (<c>MLContext.Log</c> subscribers see it), as ML.NET's components do.</summary>
    public static void Warning(object catalog, string component, string message)
    {
        if (Find(catalog, depth: 0) is not { } environment)
            return;
        using var channel = environment.Register(component).Start(component);
        channel.Warning(MessageSensitivity.None, message);
    }

    /// <summary>Writes an information line to the MLContext's log.</summary>
    public static void Info(object catalog, string component, string message)
    {
        if (Find(catalog, depth: 0) is not { } environment)
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
        if (Find(catalog, depth: 0) is not { } environment)
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

    private static IHostEnvironment? Find(object owner, int depth)
    {
        if (owner is IHostEnvironment direct)
            return direct;
        for (var type = owner.GetType(); type is not null && depth < 3; type = type.BaseType)
        {
            foreach (var field in type.GetFields(Instance))
            {
                if (typeof(IHostEnvironment).IsAssignableFrom(field.FieldType) && field.GetValue(owner) is IHostEnvironment env)
                    return env;
            }
            if (type.GetProperty("Owner", Instance)?.GetValue(owner) is { } parent)
                return Find(parent, depth + 1);
        }
        return null;
    }
}
