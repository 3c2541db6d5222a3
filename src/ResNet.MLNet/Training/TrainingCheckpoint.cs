using System.Text.Json;
using System.Text.Json.Serialization;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Training;

/// <summary>
/// The state of a run after a completed epoch, as saved in <c>last.safetensors</c>: the tensors (weights under
/// <c>model.</c>, optimizer state under <c>optimizer.</c>, the best epoch's weights under <c>best.</c>) and, in the
/// safetensors metadata, this record as JSON.
/// </summary>
internal sealed record CheckpointState
{
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;
    public required int CompletedEpochs { get; init; }
    public required string Architecture { get; init; }
    public required int NumClasses { get; init; }
    public required OptimizerKind Optimizer { get; init; }
    public required long Seed { get; init; }

    /// <summary>
    /// The random state: the data order and augmentation of epoch e come from generators seeded with (Seed, e) alone,
    /// so the seed and <see cref="CompletedEpochs"/> are the whole state. Recorded for readers of the file.
    /// </summary>
    public string RandomState { get; init; } = "SplitMix64 streams derived from (Seed, epoch); no other random state";

    public required IReadOnlyList<EpochMetrics> History { get; init; }
    public required int BestEpoch { get; init; }
    public double? BestMetric { get; init; }
    public int EpochsWithoutImprovement { get; init; }
    public bool StoppedEarly { get; init; }

    /// <summary>True when <c>best.</c> tensors are stored (the best epoch is not the last completed one).</summary>
    public bool HasBestWeights { get; init; }

    /// <summary>The options a resume compares (<see cref="TrainingOptions.ResumeSensitive"/>); null in checkpoints written before they were recorded.</summary>
    public IReadOnlyDictionary<string, string>? Options { get; init; }

    /// <summary>What makes a state read from a file impossible (a count out of range, a history that disagrees), or null.</summary>
    public string? Problem()
    {
        if (History is null)
            return "it has no history";
        if (CompletedEpochs < 0 || CompletedEpochs != History.Count)
            return $"{nameof(CompletedEpochs)} is {CompletedEpochs}, but its history holds {History.Count} epoch(s)";
        if (History.Where((e, i) => e is null || e.Epoch != i + 1).Any())
            return "its history does not number the epochs 1, 2, 3, ...";
        if (BestEpoch < 0 || BestEpoch > CompletedEpochs)
            return $"{nameof(BestEpoch)} is {BestEpoch}, outside 0..{CompletedEpochs}";
        if (EpochsWithoutImprovement < 0 || EpochsWithoutImprovement > CompletedEpochs)
            return $"{nameof(EpochsWithoutImprovement)} is {EpochsWithoutImprovement}, outside 0..{CompletedEpochs}";
        if (NumClasses < 1)
            return $"{nameof(NumClasses)} is {NumClasses}";
        if (string.IsNullOrWhiteSpace(Architecture))
            return $"it names no {nameof(Architecture)}";
        if (!Enum.IsDefined(Optimizer))
            return $"{nameof(Optimizer)} {(int)Optimizer} is unknown";
        if (BestMetric is double metric && !double.IsFinite(metric))
            return $"{nameof(BestMetric)} is {metric}";
        return null;
    }
}

/// <summary>Writes and reads checkpoints atomically: a temporary file is completed and flushed, then renamed over the last one.</summary>
internal static class TrainingCheckpoint
{
    public const string FileName = "last.safetensors";
    public const string ModelPrefix = "model.";
    public const string OptimizerPrefix = "optimizer.";
    public const string BestPrefix = "best.";
    private const string StateKey = "resnet_mlnet_training_state";

    private static readonly JsonSerializerOptions Json = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    public static string PathIn(string directory) => Path.Combine(directory, FileName);

    /// <summary>
    /// Writes <c>last.safetensors</c>: first <c>last.safetensors.tmp</c>, flushed to disk, then renamed over the old file, so a
    /// crash at any moment leaves either the old or the new checkpoint whole. <paramref name="beforeCommit"/> is a test seam.
    /// </summary>
    public static string Write(string directory, CheckpointState state, IEnumerable<NamedTensor> tensors, Action<string>? beforeCommit = null)
    {
        Directory.CreateDirectory(directory);
        string path = PathIn(directory);
        string temporary = path + ".tmp";
        var metadata = new Dictionary<string, string> { [StateKey] = JsonSerializer.Serialize(state, Json) };
        try
        {
            using var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None);
            SafeTensors.Write(stream, tensors.ToList(), metadata);
            stream.Flush(flushToDisk: true);
        }
        catch (IOException e)
        {
            File.Delete(temporary); // a full disk must not be left fuller by a partial file
            throw new IOException($"Could not write the checkpoint '{path}': {UserMessages.Of(e)} The last complete checkpoint is kept; free space and resume.", e);
        }
        beforeCommit?.Invoke(temporary);
        File.Move(temporary, path, overwrite: true);
        return path;
    }

    /// <summary>Reads the last checkpoint in <paramref name="directory"/>, or null when there is none.</summary>
    /// <exception cref="InvalidDataException">The file is not a training checkpoint of this library, or is damaged.</exception>
    public static (CheckpointState State, IReadOnlyDictionary<string, NamedTensor> Tensors)? Read(string directory)
    {
        string path = PathIn(directory);
        if (!File.Exists(path))
            return null;
        var content = SafeTensors.Read(path);
        if (!content.Metadata.TryGetValue(StateKey, out string? json))
            throw new InvalidDataException($"{path}: not a ResNet.MLNet training checkpoint (no '{StateKey}' metadata).");
        CheckpointState? state;
        try
        {
            state = JsonSerializer.Deserialize<CheckpointState>(json, Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: the training state is not valid: {UserMessages.Of(e)}", e);
        }
        if (state is null || state.Version != CheckpointState.CurrentVersion)
            throw new InvalidDataException($"{path}: training state version {state?.Version} is not supported (expected {CheckpointState.CurrentVersion}).");
        if (state.Problem() is { } problem)
            throw new InvalidDataException($"{path}: the training state is not valid: {problem}. Start again without resuming, or restore the checkpoint.");
        return (state, content.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal));
    }
}
