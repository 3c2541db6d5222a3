using ResNet.MLNet.Models;
using ResNet.MLNet.Training;
using ResNet.MLNet.Weights;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Training;

/// <summary>Tiny networks, a learnable synthetic problem and helpers that keep the training tests fast.</summary>
internal static class TrainingTestSupport
{
    /// <summary>
    /// A two-stage CIFAR-stem ResNet with 16 and 32 channels: about 30k parameters, every kind of layer. Widths stay
    /// multiples of 16: see <see cref="OneDnnChannelCheck"/> for what oneDNN does with other widths.
    /// </summary>
    public static ResNetOptions TinyOptions(int classes = 4, int inChannels = 3) => new()
    {
        Name = "tiny",
        Stem = StemKind.Cifar,
        StemWidth = 16,
        Layers = [1, 1],
        StageWidths = [16, 32],
        NumClasses = classes,
        InChannels = inChannels,
    };

    /// <summary>
    /// Images of <paramref name="size"/> pixels, dark noise with one bright quadrant; the class is the quadrant.
    /// Generated from <paramref name="seed"/> without torch's global generator.
    /// </summary>
    public static InMemoryImageDataset Quadrants(int count, long seed, int channels = 1, int size = 16, bool randomLabels = false)
    {
        var random = new Random((int)seed);
        var pixels = new byte[count * channels * size * size];
        var labels = new long[count];
        int half = size / 2;
        for (int n = 0; n < count; n++)
        {
            int quadrant = n % 4;
            labels[n] = randomLabels ? random.Next(4) : quadrant;
            for (int c = 0; c < channels; c++)
            {
                for (int y = 0; y < size; y++)
                {
                    for (int x = 0; x < size; x++)
                    {
                        bool bright = (y >= half ? 2 : 0) + (x >= half ? 1 : 0) == quadrant;
                        pixels[((n * channels + c) * size + y) * size + x] = (byte)(bright ? random.Next(150, 256) : random.Next(0, 90));
                    }
                }
            }
        }
        return InMemoryImageDataset.FromPixels(pixels, channels, size, size, labels, ["top-left", "top-right", "bottom-left", "bottom-right"]);
    }

    /// <summary>Fast, deterministic options for the tiny network at 16x16: AdamW, constant rate, no augmentation.</summary>
    public static TrainingOptions FastOptions(int epochs = 3) => new()
    {
        Epochs = epochs,
        BatchSize = 16,
        LearningRate = 0.01f,
        Optimizer = OptimizerKind.AdamW,
        Schedule = ScheduleKind.Constant,
        ImageSize = 16,
        Augmentation = Augmentation.None,
    };

    /// <summary>The raw bytes of every state tensor, for bit-exact comparisons.</summary>
    public static byte[][] StateBytes(nn.Module model) =>
        model.OrderedStateDict().Select(e => NamedTensor.FromTensor(e.Key, e.Value).Data.ToArray()).ToArray();

    /// <summary>The state tensors whose names satisfy <paramref name="select"/>, as bytes by name.</summary>
    public static Dictionary<string, byte[]> StateBytes(nn.Module model, Func<string, bool> select) =>
        model.OrderedStateDict().Where(e => select(e.Key))
            .ToDictionary(e => e.Key, e => NamedTensor.FromTensor(e.Key, e.Value).Data.ToArray());

    public static void AssertSameState(nn.Module expected, nn.Module actual)
    {
        var a = StateBytes(expected);
        var b = StateBytes(actual);
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
            Assert.True(a[i].AsSpan().SequenceEqual(b[i]), $"state tensor {expected.OrderedStateDict()[i].Key} differs");
    }
}

/// <summary>
/// Fresh copies of one initial network, initialized as torchvision does (He normal, fan-out, for convolutions; uniform for
/// the classifier) from a private generator: torch's global generator is shared by tests running in parallel, so
/// reseeding it would not make the weights reproducible.
/// </summary>
internal sealed class ModelFactory(ResNetOptions options, ulong seed = 1)
{
    public ResNetModel Create()
    {
        var model = new ResNetModel(options);
        using var generator = new Generator(seed);
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            using var scope = NewDisposeScope();
            if (p.dim() == 4)
                p.copy_(randn(p.shape, generator: generator) * Math.Sqrt(2.0 / (p.shape[0] * p.shape[2] * p.shape[3])));
            else if (name.StartsWith("fc."))
                p.copy_((rand(p.shape, generator: generator) * 2 - 1) / Math.Sqrt(model.NumFeatures));
        }
        return model;
    }
}

/// <summary>Reports synchronously on the training thread (unlike <see cref="Progress{T}"/>, which posts).</summary>
internal sealed class RecordingProgress(Action<TrainingProgress>? onReport = null) : IProgress<TrainingProgress>
{
    public List<TrainingProgress> Reports { get; } = [];

    public void Report(TrainingProgress value)
    {
        Reports.Add(value);
        onReport?.Invoke(value);
    }
}

/// <summary>A fresh directory under the temp folder, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("resnet-mlnet-train-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}
