using ResNet.MLNet.Weights;
using static TorchSharp.torch;

namespace ResNet.MLNet.Training;

/// <summary>A copy of a model's parameters and buffers (state_dict order) on the model's device, to restore later.</summary>
internal sealed class WeightsSnapshot : IDisposable
{
    private readonly string[] names;
    private readonly Tensor[] copies;

    private WeightsSnapshot(string[] names, Tensor[] copies)
    {
        this.names = names;
        this.copies = copies;
    }

    /// <summary>Copies the model's current state.</summary>
    public static WeightsSnapshot Of(nn.Module model)
    {
        var state = model.OrderedStateDict();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return new WeightsSnapshot(
            state.Select(e => e.Key).ToArray(),
            state.Select(e => e.Value.detach().clone().DetachFromDisposeScope()).ToArray());
    }

    /// <summary>Overwrites this copy with the model's current state (same architecture), without allocating.</summary>
    public void Update(nn.Module model) => CopyPairs(model, toModel: false);

    /// <summary>Writes the copy back into the model.</summary>
    public void Restore(nn.Module model) => CopyPairs(model, toModel: true);

    /// <summary>The copy as named tensors with <paramref name="prefix"/> before each state_dict key.</summary>
    public IEnumerable<NamedTensor> ToNamed(string prefix) => names.Zip(copies, (n, t) => NamedTensor.FromTensor(prefix + n, t));

    private void CopyPairs(nn.Module model, bool toModel)
    {
        using var noGrad = no_grad();
        foreach (var ((name, tensor), i) in model.OrderedStateDict().Select((e, i) => (e, i)))
        {
            if (i >= names.Length || names[i] != name)
                throw new InvalidOperationException($"The model's state entry '{name}' does not match the snapshot's.");
            if (toModel)
                tensor.copy_(copies[i]);
            else
                copies[i].copy_(tensor);
        }
    }

    public void Dispose()
    {
        foreach (var t in copies)
            t.Dispose();
    }
}
