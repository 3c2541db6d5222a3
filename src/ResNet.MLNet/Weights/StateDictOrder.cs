using static TorchSharp.torch;

namespace ResNet.MLNet.Weights;

/// <summary>State dictionaries in PyTorch's order.</summary>
internal static class StateDictOrder
{
    /// <summary>
    /// The module's parameters and persistent buffers in PyTorch's <c>state_dict()</c> order: each module's own
    /// parameters, then its own buffers, then its children in registration order (TorchSharp's <c>state_dict()</c>
    /// lists all parameters before all buffers). The tensors are the module's own, not copies.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, Tensor>> OrderedStateDict(this nn.Module module)
    {
        var entries = new List<KeyValuePair<string, Tensor>>();
        Collect(module, "", entries);
        return entries;
    }

    private static void Collect(nn.Module module, string prefix, List<KeyValuePair<string, Tensor>> entries)
    {
        foreach (var (name, parameter) in module.named_parameters(recurse: false))
            entries.Add(new(prefix + name, parameter));
        foreach (var (name, buffer) in module.named_buffers(recurse: false))
            entries.Add(new(prefix + name, buffer));
        foreach (var (name, child) in module.named_children())
            Collect(child, prefix + name + ".", entries);
    }
}
