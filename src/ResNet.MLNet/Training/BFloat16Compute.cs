using TorchSharp;
using TorchSharp.Modules;
using ResNet.MLNet.Models;
using static TorchSharp.torch;

namespace ResNet.MLNet.Training;

/// <summary>
/// Mixed precision for TorchSharp, which has no autocast: a copy of the network whose convolutions and classifier hold
/// bfloat16 weights, while its BatchNorm layers stay float32 (libtorch normalizes bfloat16 input with float32 parameters
/// and statistics). The master model keeps float32 weights, which the optimizer updates; before each step the trainable
/// weights are cast into the copy, after the backward pass the copy's gradients are cast into the master's.
/// </summary>
internal sealed class BFloat16Compute : IDisposable
{
    private readonly ResNetModel master;
    private readonly (Parameter Master, Parameter Compute)[] parameters;
    private readonly (Tensor Master, Tensor Compute)[] buffers;

    public BFloat16Compute(ResNetModel master, Device device)
    {
        this.master = master;
        Model = new ResNetModel(master.Options);
        Model.to(device);
        Model.to(ScalarType.BFloat16);
        foreach (var norm in Model.modules().OfType<BatchNorm>())
            norm.to(ScalarType.Float32);
        Parts = new ModelParts(Model);
        var masterParameters = master.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        parameters = Model.named_parameters().Select(p => (masterParameters[p.name], p.parameter)).ToArray();
        var masterBuffers = master.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        buffers = Model.named_buffers().Select(b => (masterBuffers[b.name], b.buffer)).ToArray();
        PullAll();
    }

    /// <summary>The bfloat16 network the forward and backward passes run on.</summary>
    public ResNetModel Model { get; }

    /// <summary>The copy's parts, to freeze as the master's are.</summary>
    public ModelParts Parts { get; }

    /// <summary>Copies every weight and buffer from the master (after loading or restoring weights).</summary>
    public void PullAll()
    {
        using var noGrad = no_grad();
        foreach (var (m, c) in parameters)
            c.copy_(m);
        foreach (var (m, c) in buffers)
            c.copy_(m);
    }

    /// <summary>Casts the master's trainable weights into the copy (frozen ones do not change).</summary>
    public void PullTrainable()
    {
        using var noGrad = no_grad();
        foreach (var (m, c) in parameters)
        {
            if (c.requires_grad)
                c.copy_(m);
        }
    }

    /// <summary>Gives the master the copy's gradients in float32.</summary>
    public void PushGradients()
    {
        foreach (var (m, c) in parameters)
        {
            using var grad = c.grad;
            if (grad is not null)
                m.grad = grad.to_type(ScalarType.Float32);
        }
    }

    /// <summary>Gives the master the copy's BatchNorm running statistics.</summary>
    public void PushBuffers()
    {
        using var noGrad = no_grad();
        foreach (var (m, c) in buffers)
            m.copy_(c);
    }

    public void Dispose() => Model.Dispose();
}
