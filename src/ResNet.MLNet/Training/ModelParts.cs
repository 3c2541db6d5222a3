using TorchSharp.Modules;
using ResNet.MLNet.Models;
using static TorchSharp.torch;

namespace ResNet.MLNet.Training;

/// <summary>
/// The trainable parts of a ResNet by distance from the head: the classifier <c>fc</c> is 0, the last stage (with a
/// pre-activation net's final <c>norm</c>) 1, ..., the first stage N, the stem (<c>conv1</c>, <c>bn1</c>) N + 1. Freezing and
/// discriminative learning rates are decided per distance.
/// </summary>
internal sealed class ModelParts
{
    private readonly (string Name, Parameter Parameter, int Distance)[] parameters;
    private readonly (BatchNorm Module, int Distance)[] norms;

    public ModelParts(ResNetModel model)
    {
        NumStages = model.NumStages;
        parameters = model.named_parameters().Select(p => (p.name, p.parameter, DistanceOf(p.name, NumStages))).ToArray();
        norms = model.named_modules()
            .Where(m => m.module is BatchNorm)
            .Select(m => ((BatchNorm)m.module, DistanceOf(m.name, NumStages)))
            .ToArray();
    }

    public int NumStages { get; }

    /// <summary>Every parameter with its state_dict name and distance from the head.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter, int Distance)> Parameters => parameters;

    /// <summary>The largest distance at which parameters train in <paramref name="epoch"/> (0-based).</summary>
    public int TrainableDistance(TrainingOptions options, int epoch) =>
        epoch < options.FreezeEpochs ? 0 : options.Freeze switch
        {
            FreezeMode.HeadOnly => 0,
            FreezeMode.AllButLastStages => options.TrainLastStages,
            _ => NumStages + 1,
        };

    /// <summary>
    /// Puts the model in training mode with parts beyond <paramref name="trainableDistance"/> frozen: their parameters
    /// need no gradient and their BatchNorm layers run in evaluation mode (running statistics unchanged).
    /// </summary>
    public void SetTrainable(ResNetModel model, int trainableDistance)
    {
        model.train();
        foreach (var (_, parameter, distance) in parameters)
            parameter.requires_grad = distance <= trainableDistance;
        foreach (var (norm, distance) in norms)
        {
            if (distance > trainableDistance)
                norm.eval();
        }
    }

    private static int DistanceOf(string name, int numStages)
    {
        string top = name.Split('.', 2)[0];
        if (top == "fc")
            return 0;
        if (top == "norm")
            return 1;
        if (top.StartsWith("layer", StringComparison.Ordinal) && int.TryParse(top.AsSpan("layer".Length), out int stage))
            return numStages - stage + 1;
        return numStages + 1; // conv1, bn1: the stem
    }
}
