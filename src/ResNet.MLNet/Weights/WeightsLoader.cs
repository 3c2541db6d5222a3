using ResNet.MLNet.Models;
using static TorchSharp.torch;

namespace ResNet.MLNet.Weights;

/// <summary>
/// Loads torchvision, timm and this library's checkpoints (any format <see cref="WeightsFile"/> reads) into a
/// <see cref="ResNetModel"/>. Keys map one to one after removing a DataParallel <c>module.</c> prefix and renaming timm-style
/// classifiers (<c>head.fc</c>, <c>classifier</c>, <c>last_linear</c>) to <c>fc</c>. Checks everything before copying
/// anything; values are copied under <c>no_grad</c>, converted to each model tensor's type and device.
/// </summary>
public static class WeightsLoader
{
    /// <summary>Reads <paramref name="path"/> and loads it into <paramref name="model"/>.</summary>
    /// <exception cref="WeightsMismatchException">A strict load found problems; the message lists all of them.</exception>
    /// <exception cref="InvalidDataException">The file is malformed.</exception>
    /// <exception cref="UnsafePickleException">A PyTorch pickle refers to a global outside the weights-only allowlist.</exception>
    public static LoadingReport Load(ResNetModel model, string path, WeightsLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Load(model, WeightsFile.Read(path).Tensors, options, path);
    }

    /// <summary>Loads tensors already read into <paramref name="model"/>; <paramref name="source"/> names them in the report.</summary>
    /// <exception cref="WeightsMismatchException">A strict load found problems; the message lists all of them.</exception>
    /// <exception cref="InvalidDataException">A tensor to load holds NaN or infinite values and <see cref="WeightsLoadOptions.AllowNonFinite"/> is false.</exception>
    public static LoadingReport Load(ResNetModel model, IReadOnlyList<NamedTensor> tensors, WeightsLoadOptions? options = null, string source = "tensors")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tensors);
        options ??= WeightsLoadOptions.Default;

        var (file, unexpected) = WeightsNameMapping.MapKeys(tensors, options.KeyPrefix);
        var target = model.OrderedStateDict();
        string? headNote = options.AllowHeadMismatch ? HeadMismatch(target, file) : null;

        var plan = new List<(Tensor Target, NamedTensor Value, bool Adapt)>();
        var loaded = new List<string>();
        var adapted = new List<string>();
        var skipped = new List<string>();
        var missing = new List<string>();
        var mismatches = new List<ShapeMismatch>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, tensor) in target)
        {
            if (headNote is not null && WeightsNameMapping.IsClassifier(key))
                continue;
            if (!file.TryGetValue(key, out var value))
            {
                // PyTorch before 0.4.1 saved no BatchNorm counters and loads such files strictly: so do we.
                if (!WeightsNameMapping.IsBatchCounter(key))
                    missing.Add(key);
                continue;
            }
            used.Add(key);
            bool adapt = false;
            if (!value.Shape.SequenceEqual(tensor.shape))
            {
                adapt = options.AdaptInputChannels && key == WeightsNameMapping.InputConvWeight && CanAdaptInputConv(value.Shape, tensor.shape);
                if (!adapt && !IsSqueezableHead(key, value.Shape, tensor.shape))
                {
                    mismatches.Add(new ShapeMismatch(key, tensor.shape, value.Shape));
                    continue;
                }
            }
            plan.Add((tensor, value, adapt));
            loaded.Add(key);
            if (adapt)
                adapted.Add($"{key}: file [{string.Join(", ", value.Shape)}] -> model [{string.Join(", ", tensor.shape)}] " +
                            (tensor.shape[1] == 1 ? "(summed over the input channels)" : "(input channels repeated, scaled by 3/N)"));
        }
        foreach (var (key, value) in file)
        {
            if (used.Contains(key))
                continue;
            if (headNote is not null && WeightsNameMapping.IsClassifier(key))
                skipped.Add(value.Name);
            else
                unexpected.Add(value.Name);
        }

        var report = new LoadingReport(source, model.Options.Name, loaded, adapted, skipped, missing, unexpected, mismatches, headNote, options.Strict);
        if (options.Strict && !report.IsComplete)
            throw new WeightsMismatchException(report);
        if (!options.AllowNonFinite)
        {
            foreach (var (_, value, _) in plan)
                CheckFinite(value, source);
        }
        Copy(plan);
        return report;
    }

    /// <summary>Refuses a floating-point tensor holding NaN or an infinity, naming it, the count and the first index.</summary>
    private static void CheckFinite(NamedTensor tensor, string source)
    {
        var bytes = tensor.Data.Span;
        (long Count, long First) bad = tensor.DType switch
        {
            ScalarType.Float32 => NonFinite(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes), float.IsFinite),
            ScalarType.Float64 => NonFinite(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(bytes), double.IsFinite),
            ScalarType.Float16 => NonFinite(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(bytes), Half.IsFinite),
            ScalarType.BFloat16 => NonFinite(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(bytes), b => (b & 0x7F80) != 0x7F80),
            _ => (0, -1),
        };
        if (bad.Count > 0)
            throw new InvalidDataException(
                $"{source}: tensor '{PrintableName.Of(tensor.Name)}' holds {bad.Count:N0} NaN or infinite value(s) (the first at index {bad.First}); " +
                $"a network with them outputs NaN. Use weights from before training diverged, or set {nameof(WeightsLoadOptions)}.{nameof(WeightsLoadOptions.AllowNonFinite)} to load them anyway.");
    }

    private static (long Count, long First) NonFinite<T>(ReadOnlySpan<T> values, Func<T, bool> isFinite)
    {
        long count = 0, first = -1;
        for (int i = 0; i < values.Length; i++)
        {
            if (!isFinite(values[i]))
            {
                count++;
                if (first < 0)
                    first = i;
            }
        }
        return (count, first);
    }

    /// <summary>Why the file's classifier cannot go into the model's head, or null when it fits (or neither has one).</summary>
    private static string? HeadMismatch(IReadOnlyList<KeyValuePair<string, Tensor>> target, Dictionary<string, NamedTensor> file)
    {
        string weight = WeightsNameMapping.Classifier + "weight";
        var modelHead = target.FirstOrDefault(e => e.Key == weight).Value;
        file.TryGetValue(weight, out var fileHead);
        if (modelHead is null)
            return fileHead is null ? null : $"the model has no head; the file's {fileHead.Shape[0]}-class classifier was not loaded";
        if (fileHead is null)
            return $"the file has no classifier; the model's {modelHead.shape[0]}-class head keeps its initial values";
        if (fileHead.Shape.Count >= 2 && fileHead.Shape[1] == modelHead.shape[1] && fileHead.Shape[0] != modelHead.shape[0])
            return $"the file's head has {fileHead.Shape[0]} classes and the model's {modelHead.shape[0]}; the model's head keeps its initial values";
        return null;
    }

    /// <summary>A timm 1x1-convolution classifier, [C, F, 1, 1], for a linear [C, F] head.</summary>
    private static bool IsSqueezableHead(string key, IReadOnlyList<long> file, long[] model) =>
        key == WeightsNameMapping.Classifier + "weight" && file.Count == 4 && file[2] == 1 && file[3] == 1
        && model.Length == 2 && file[0] == model[0] && file[1] == model[1];

    private static bool CanAdaptInputConv(IReadOnlyList<long> file, long[] model) =>
        file.Count == 4 && model.Length == 4 && file[0] == model[0] && file[2] == model[2] && file[3] == model[3]
        && (model[1] == 1 || file[1] == 3);

    /// <summary>timm's adapt_input_conv: sum over input channels for one channel; otherwise repeat RGB and scale by 3/N.</summary>
    private static Tensor AdaptInputConv(Tensor weight, long channels)
    {
        var w = weight.to_type(ScalarType.Float32);
        if (channels == 1)
            return w.sum(1, keepdim: true);
        long repeat = (channels + 2) / 3;
        return w.repeat(1, repeat, 1, 1).narrow(1, 0, channels).mul(3.0 / channels);
    }

    private static void Copy(List<(Tensor Target, NamedTensor Value, bool Adapt)> plan)
    {
        using var noGrad = no_grad();
        foreach (var (target, value, adapt) in plan)
        {
            using var scope = NewDisposeScope();
            var source = value.ToTensor();
            if (adapt)
                source = AdaptInputConv(source, target.shape[1]);
            target.copy_(source.reshape(target.shape).to(target.dtype, target.device));
        }
    }
}
