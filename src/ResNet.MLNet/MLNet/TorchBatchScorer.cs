using ResNet.MLNet.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ResNet.MLNet;

/// <summary>
/// Runs a <see cref="ResNetModel"/> in TorchSharp on batches of CHW images scaled to [0, 1]: normalizes with the
/// mean and std, forwards in eval mode without gradients, and returns the chosen output. One dispose scope per batch.
/// </summary>
internal sealed class TorchBatchScorer : IBatchScorer
{
    private readonly ResNetModel model;
    private readonly bool ownsModel;
    private readonly Tensor mean;
    private readonly Tensor std;
    private readonly ResNetOutputKind output;
    private readonly int stage;
    private readonly bool l2Normalize;
    private readonly long[] imageShape;
    private readonly Device device;

    public TorchBatchScorer(ResNetModel model, bool ownsModel, ImageModelInput input, ResNetOutputKind output, int stage, bool l2Normalize, Device device)
    {
        this.model = model;
        this.ownsModel = ownsModel;
        this.output = output;
        this.stage = stage;
        this.l2Normalize = l2Normalize;
        this.device = device;
        int channels = model.Options.InChannels, imageSize = input.ImageSize;
        imageShape = [channels, imageSize, imageSize];
        (mean, std) = Training.BatchPreprocessor.Normalization(input, channels, device);
        InputLength = channels * imageSize * imageSize;
        OutputLength = (int)OutputShape(model, imageSize, output, stage).Aggregate(1L, (a, b) => a * b);
    }

    public int InputLength { get; }
    public int OutputLength { get; }

    /// <summary>The per-image output shape, measured on one zero image.</summary>
    public static long[] OutputShape(ResNetModel model, int imageSize, ResNetOutputKind output, int stage)
    {
        return output switch
        {
            ResNetOutputKind.Embedding => [model.NumFeatures],
            ResNetOutputKind.Logits or ResNetOutputKind.Probabilities when model.NumClasses > 0 => [model.NumClasses],
            ResNetOutputKind.Logits or ResNetOutputKind.Probabilities =>
                throw new ArgumentException($"Output {output} needs a classifier head; the model has none (NumClasses = 0).", nameof(output)),
            _ => StageShape(model, imageSize, stage),
        };
    }

    private static long[] StageShape(ResNetModel model, int imageSize, int stage)
    {
        if (stage < 1 || stage > model.NumStages)
            throw new ArgumentOutOfRangeException(nameof(stage), stage, $"Stage must be between 1 and {model.NumStages} for {model.Options.Name}.");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        bool training = model.training;
        model.eval();
        var device = model.parameters().First().device;
        var h = ForwardToStage(model, zeros([1, model.Options.InChannels, imageSize, imageSize], device: device), stage);
        model.train(training);
        return h.shape.Skip(1).ToArray();
    }

    public void Run(ReadOnlySpan<float> input, int rows, Span<float> result)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.eval();
        var x = tensor(input.ToArray(), [rows, .. imageShape], device: device);
        x = (x - mean) / std;
        Tensor y = output switch
        {
            ResNetOutputKind.Embedding => model.ForwardEmbedding(x),
            ResNetOutputKind.Logits => model.forward(x),
            ResNetOutputKind.Probabilities => nn.functional.softmax(model.forward(x), 1),
            _ => ForwardToStage(model, x, stage),
        };
        y = y.reshape(rows, -1);
        if (l2Normalize)
            y = nn.functional.normalize(y, p: 2, dim: 1);
        y.cpu().data<float>().CopyTo(result);
    }

    /// <summary>The feature map after stage <paramref name="stage"/> (1-based).</summary>
    private static Tensor ForwardToStage(ResNetModel model, Tensor x, int stage)
    {
        var h = model.ForwardStem(x);
        for (int s = 0; s < stage; s++)
            h = model.ForwardStage(s, h);
        return h;
    }

    public void Dispose()
    {
        mean.Dispose();
        std.Dispose();
        if (ownsModel)
            model.Dispose();
    }
}
