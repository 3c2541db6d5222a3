using System.Diagnostics;
using System.Text.Json.Serialization;
using ResNet.MLNet.Models;
using ResNet.MLNet.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ResNet.MLNet.Cli.Commands;

/// <summary>
/// Where a training step's time goes (<c>bench train --profile</c>): forward and backward of each part of the network
/// (stem, each stage, head with the loss) run alone on the shapes a training step gives it, every convolution run alone
/// and summed by kind (kernel, stride, grouped, shortcut), and the optimizer's update. The PyTorch side
/// (Bench/pytorch_train_bench.py --profile) measures the same on torchvision's network, so the two line up row by row.
/// Each figure is the best of a few repetitions, in milliseconds per batch, float32.
/// </summary>
internal static class TrainProfile
{
    internal sealed record Part(
        [property: JsonPropertyName("part")] string Name,
        [property: JsonPropertyName("forward_ms")] double ForwardMs,
        [property: JsonPropertyName("backward_ms")] double BackwardMs,
        [property: JsonPropertyName("count")] int Count = 1);

    internal sealed record Result(
        [property: JsonPropertyName("parts")] IReadOnlyList<Part> Parts,
        [property: JsonPropertyName("convs")] IReadOnlyList<Part> Convs,
        [property: JsonPropertyName("optimizer_ms")] double OptimizerMs,
        [property: JsonPropertyName("step_ms")] double StepMs);

    /// <summary>The convolution kind both sides name alike: <c>3x3</c>, <c>1x1/2</c>, <c>3x3/2 grouped</c>, <c>1x1/2 shortcut</c>.</summary>
    internal static string ConvKind(long kernel, long stride, long groups, bool shortcut) =>
        $"{kernel}x{kernel}{(stride > 1 ? $"/{stride}" : "")}{(groups > 1 ? " grouped" : "")}{(shortcut ? " shortcut" : "")}";

    public static Result Toolkit(ResNetOptions options, int batch, int size, int repeats)
    {
        using var model = new ResNetModel(options);
        model.train();
        using var scope = NewDisposeScope();
        var generator = new Generator(0);
        var images = randn([batch, options.InChannels, size, size], generator: generator);
        var labels = randint(options.NumClasses, [batch], generator: generator);

        // The input of each part, as a training step hands it on.
        var parts = new List<(string Name, Func<Tensor, Tensor> Run)> { ("stem", model.ForwardStem) };
        for (int s = 0; s < model.NumStages; s++)
        {
            int stage = s;
            parts.Add(($"layer{s + 1}", x => model.ForwardStage(stage, x)));
        }
        parts.Add(("head + loss", x => nn.functional.cross_entropy(model.ForwardHeadFromLastStage(x), labels)));
        var inputs = new List<Tensor> { images };
        var convInputs = new Dictionary<string, long[]>();
        var hooks = model.named_modules()
            .Where(m => m.module is Conv2d or SubsampledConv1x1)
            .Select(m => ((nn.Module<Tensor, Tensor>)m.module).register_forward_hook((_, x, y) =>
            {
                convInputs[m.name] = x.shape;
                return y;
            }))
            .ToList();
        using (no_grad())
        {
            foreach (var (_, run) in parts.SkipLast(1))
                inputs.Add(run(inputs[^1]));
        }
        foreach (var hook in hooks)
            hook.remove();

        var partTimes = parts.Select((p, i) => Time(p.Name, p.Run, inputs[i], needsInputGrad: i > 0, model, repeats)).ToList();

        var convTimes = new List<Part>();
        foreach (var (name, module) in model.named_modules().Where(m => m.module is Conv2d or SubsampledConv1x1))
        {
            var (kernel, stride, groups) = module switch
            {
                Conv2d c => (c.kernel_size[0], c.stride[0], c.groups),
                SubsampledConv1x1 s => (1L, (long)s.Stride, 1L),
                _ => throw new UnreachableException(),
            };
            var conv = (nn.Module<Tensor, Tensor>)module;
            var x = randn(convInputs[name], generator: generator);
            convTimes.Add(Time(ConvKind(kernel, stride, groups, name.Contains("downsample", StringComparison.Ordinal)), conv.call, x,
                needsInputGrad: name != "conv1", model, repeats));
        }
        var byKind = convTimes.GroupBy(c => c.Name)
            .Select(g => new Part(g.Key, g.Sum(c => c.ForwardMs), g.Sum(c => c.BackwardMs), g.Count()))
            .OrderByDescending(c => c.ForwardMs + c.BackwardMs).ToList();

        // The optimizer's update (SGD, momentum 0.9, weight decay 1e-4, as bench train) with gradients in place.
        using (var step = NewDisposeScope())
        {
            nn.functional.cross_entropy(model.call(images), labels).backward();
        }
        using var optimizer = new Optimizer(new ModelParts(model), new TrainingOptions
        {
            Optimizer = OptimizerKind.Sgd, Momentum = 0.9f, WeightDecay = 1e-4f, NoWeightDecayOnNormAndBias = false,
        });
        double optimizerMs = Best(repeats + 1, () => optimizer.Step(0.01)); // the first step allocates the momentum buffers
        // A whole step in a bare loop (forward, loss, backward, update), for comparison with the trainer's own step.
        double stepMs = Best(repeats + 1, () =>
        {
            using var step = NewDisposeScope();
            model.zero_grad();
            var loss = nn.functional.cross_entropy(model.call(images), labels);
            loss.backward();
            optimizer.Step(0.01);
            _ = loss.item<float>();
        });
        return new Result(partTimes, byKind, optimizerMs, stepMs);
    }

    /// <summary>Best forward and backward milliseconds of <paramref name="run"/> on <paramref name="input"/>.</summary>
    private static Part Time(string name, Func<Tensor, Tensor> run, Tensor input, bool needsInputGrad, ResNetModel model, int repeats)
    {
        double forward = double.MaxValue, backward = double.MaxValue;
        for (int r = 0; r < repeats + 1; r++) // one untimed warm-up
        {
            using var scope = NewDisposeScope();
            var x = input.detach().requires_grad_(needsInputGrad);
            var clock = Stopwatch.StartNew();
            var y = run(x);
            double f = clock.Elapsed.TotalMilliseconds;
            var gradient = y.dim() == 0 ? null : ones_like(y);
            clock.Restart();
            if (gradient is null)
                y.backward();
            else
                y.backward([gradient]);
            double b = clock.Elapsed.TotalMilliseconds;
            model.zero_grad();
            if (r == 0)
                continue;
            forward = Math.Min(forward, f);
            backward = Math.Min(backward, b);
        }
        return new Part(name, forward, backward);
    }

    private static double Best(int repeats, Action action)
    {
        double best = double.MaxValue;
        for (int r = 0; r < repeats; r++)
        {
            var clock = Stopwatch.StartNew();
            action();
            double ms = clock.Elapsed.TotalMilliseconds;
            if (r > 0)
                best = Math.Min(best, ms);
        }
        return best;
    }
}
