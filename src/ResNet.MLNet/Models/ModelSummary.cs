using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ResNet.MLNet.Models;

/// <summary>One row of a <see cref="ModelSummary"/>: a stem, a stage or the head.</summary>
/// <param name="Name">"stem", "layer1" ... or "head".</param>
/// <param name="OutputShape">Output shape for one image, e.g. [64, 56, 56].</param>
/// <param name="Parameters">Parameters of this part.</param>
/// <param name="Macs">Multiply-accumulates of its convolutions and linear layers for one image.</param>
public sealed record StageSummary(string Name, IReadOnlyList<long> OutputShape, long Parameters, long Macs);

/// <summary>
/// Size and cost of a network: per-stage output shapes, parameters and multiply-accumulates (MACs) for one image,
/// counted over convolutions and fully connected layers as torchvision's published GFLOPS are.
/// </summary>
/// <param name="Architecture">The network's name.</param>
/// <param name="InputSize">Side of the square input the MACs are counted for.</param>
/// <param name="Stages">Stem, stages and head, in order.</param>
/// <param name="Parameters">All parameters.</param>
/// <param name="Macs">All multiply-accumulates for one image.</param>
public sealed record ModelSummary(string Architecture, int InputSize, IReadOnlyList<StageSummary> Stages, long Parameters, long Macs)
{
    /// <summary>Measures <paramref name="model"/> by running one image of <paramref name="inputSize"/> pixels square through it.</summary>
    public static ModelSummary Of(ResNetModel model, int inputSize = 224)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (inputSize < 1)
            throw new ArgumentOutOfRangeException(nameof(inputSize), inputSize, "The input size must be positive.");

        long macs = 0;
        var removeHooks = new List<Action>();
        foreach (var module in model.modules().OfType<Module<Tensor, Tensor>>())
        {
            // Convolutions and linear layers: MACs = output elements x (weight elements / output channels).
            var weight = module.named_parameters(recurse: false).FirstOrDefault(p => p.name == "weight").parameter;
            if (weight is null || weight.dim() < 2)
                continue;
            long perOutput = weight.numel() / weight.shape[0];
            var hook = module.register_forward_hook((_, _, output) =>
            {
                macs += output.numel() * perOutput;
                return output;
            });
            removeHooks.Add(hook.remove);
        }

        bool wasTraining = model.training;
        model.eval();
        var stages = new List<StageSummary>();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var device = model.parameters().First().device;
            Tensor h = zeros([1, model.Options.InChannels, inputSize, inputSize], device: device);

            void Record(string name, IEnumerable<nn.Module> parts, Func<Tensor, Tensor> run)
            {
                long before = macs;
                h = run(h);
                long parameters = parts.SelectMany(p => p.parameters()).Sum(p => p.numel());
                stages.Add(new StageSummary(name, h.shape.Skip(1).ToArray(), parameters, macs - before));
            }

            var children = model.named_children().ToDictionary(c => c.name, c => c.module);
            Record("stem", children.Where(c => c.Key is "conv1" or "bn1").Select(c => c.Value), model.ForwardStem);
            for (int s = 0; s < model.NumStages; s++)
            {
                int index = s;
                Record($"layer{s + 1}", [children[$"layer{s + 1}"]], x => model.ForwardStage(index, x));
            }
            Record("head", children.Where(c => c.Key is "norm" or "fc").Select(c => c.Value), model.ForwardHeadFromLastStage);
        }
        finally
        {
            foreach (var remove in removeHooks)
                remove();
            model.train(wasTraining);
        }
        return new ModelSummary(model.Options.Name, inputSize, stages, model.parameters().Sum(p => p.numel()), stages.Sum(s => s.Macs));
    }
}
