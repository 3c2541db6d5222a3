using ResNet.MLNet.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ResNet.MLNet.Training;

/// <summary>
/// SGD with momentum and AdamW with PyTorch's update rules, one parameter group per (distance from the head, decay or
/// not): the learning rate of a parameter is the scheduled rate x factor^distance, and rank-0/1 parameters can be
/// exempt from weight decay. Parameters that need no gradient (frozen) or got none are skipped entirely, state included.
/// The state is a set of named tensors, so checkpoints store it in safetensors.
/// </summary>
internal sealed class Optimizer : IDisposable
{
    private const double Beta2 = 0.999;
    private const double Epsilon = 1e-8;

    private readonly Entry[] entries;
    private readonly OptimizerKind kind;
    private readonly double momentum;
    private readonly bool nesterov;
    private readonly double weightDecay;
    private readonly double factor;

    public Optimizer(ModelParts parts, TrainingOptions options)
    {
        kind = options.Optimizer;
        momentum = options.Momentum;
        nesterov = options.Nesterov;
        weightDecay = options.WeightDecay;
        factor = options.EarlyStageLearningRateFactor;
        entries = parts.Parameters
            .Select(p => new Entry(p.Name, p.Parameter, p.Distance, Decay: !options.NoWeightDecayOnNormAndBias || p.Parameter.dim() > 1))
            .ToArray();
    }

    /// <summary>Names of the state tensors this optimizer keeps per parameter.</summary>
    private IEnumerable<string> StateNames => kind == OptimizerKind.Sgd ? ["momentum_buffer"] : ["exp_avg", "exp_avg_sq"];

    /// <summary>The learning rate of a parameter at <paramref name="distance"/> from the head when the head's is <paramref name="lr"/>.</summary>
    public double LearningRateAt(double lr, int distance) => lr * Math.Pow(factor, distance);

    /// <summary>Applies one update with the head's learning rate <paramref name="lr"/>.</summary>
    public void Step(double lr)
    {
        using var noGrad = no_grad();
        foreach (var e in entries)
        {
            if (!e.Parameter.requires_grad)
                continue;
            using var scope = NewDisposeScope();
            var grad = e.Parameter.grad;
            if (grad is null)
                continue;
            double rate = LearningRateAt(lr, e.Distance);
            double decay = e.Decay ? weightDecay : 0;
            if (kind == OptimizerKind.Sgd)
                SgdStep(e, grad, rate, decay);
            else
                AdamWStep(e, grad, rate, decay);
        }
    }

    private void SgdStep(Entry e, Tensor grad, double lr, double decay)
    {
        var p = e.Parameter;
        var g = decay == 0 ? grad : grad.add(p, alpha: decay);
        if (momentum != 0)
        {
            var buffer = e.State[0];
            if (buffer is null)
                e.State[0] = buffer = g.clone().DetachFromDisposeScope();
            else
                buffer.mul_(momentum).add_(g);
            g = nesterov ? g.add(buffer, alpha: momentum) : buffer;
        }
        p.add_(g, alpha: -lr);
        e.Steps++;
    }

    private void AdamWStep(Entry e, Tensor grad, double lr, double decay)
    {
        var p = e.Parameter;
        e.State[0] ??= zeros_like(p).DetachFromDisposeScope();
        e.State[1] ??= zeros_like(p).DetachFromDisposeScope();
        var (m, v) = (e.State[0]!, e.State[1]!);
        e.Steps++;
        if (decay != 0)
            p.mul_(1 - lr * decay);
        double beta1 = momentum;
        m.mul_(beta1).add_(grad, alpha: 1 - beta1);
        v.mul_(Beta2).addcmul_(grad, grad, value: 1 - Beta2);
        double biasCorrection1 = 1 - Math.Pow(beta1, e.Steps);
        double biasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(Beta2, e.Steps));
        var denominator = v.sqrt().div_(biasCorrection2Sqrt).add_(Epsilon);
        p.addcdiv_(m, denominator, value: -lr / biasCorrection1);
    }

    /// <summary>The state as named CPU copies: <c>{prefix}{parameter}.{state}</c>, and <c>.step</c> counters.</summary>
    public IEnumerable<NamedTensor> SaveState(string prefix)
    {
        foreach (var e in entries)
        {
            if (e.Steps == 0)
                continue;
            using var steps = tensor(e.Steps);
            yield return NamedTensor.FromTensor($"{prefix}{e.Name}.step", steps);
            foreach (var (name, state) in StateNames.Zip(e.State))
            {
                if (state is not null)
                    yield return NamedTensor.FromTensor($"{prefix}{e.Name}.{name}", state);
            }
        }
    }

    /// <summary>Replaces the state with the one saved under <paramref name="prefix"/>.</summary>
    /// <exception cref="InvalidDataException">A state tensor does not fit its parameter; the message names <paramref name="source"/>.</exception>
    public void LoadState(IReadOnlyDictionary<string, NamedTensor> tensors, string prefix, string source)
    {
        foreach (var e in entries)
        {
            for (int i = 0; i < e.State.Length; i++)
            {
                e.State[i]?.Dispose();
                e.State[i] = null;
            }
            e.Steps = tensors.TryGetValue($"{prefix}{e.Name}.step", out var steps) ? steps.ToArray<long>()[0] : 0;
            foreach (var (name, i) in StateNames.Select((n, i) => (n, i)))
            {
                if (!tensors.TryGetValue($"{prefix}{e.Name}.{name}", out var saved))
                    continue;
                if (!saved.Shape.SequenceEqual(e.Parameter.shape))
                    throw new InvalidDataException($"{source}: optimizer state '{saved.Name}' has shape [{string.Join(", ", saved.Shape)}]; the parameter has [{string.Join(", ", e.Parameter.shape)}].");
                using var cpu = saved.ToTensor();
                e.State[i] = cpu.to(e.Parameter.dtype, e.Parameter.device, copy: true).DetachFromDisposeScope();
            }
        }
    }

    public void Dispose()
    {
        foreach (var e in entries)
        {
            foreach (var state in e.State)
                state?.Dispose();
        }
    }

    private sealed record Entry(string Name, Parameter Parameter, int Distance, bool Decay)
    {
        public Tensor?[] State { get; } = new Tensor?[2];
        public long Steps { get; set; }
    }
}
