namespace ResNet.MLNet.Weights;

/// <summary>
/// A pickle names a global (a function or class) that a weights-only reader does not allow, such as
/// <c>posix.system</c> or <c>builtins.eval</c>. Raised when the name is read, so nothing the pickle asks for runs.
/// Weight readers throw this or <see cref="InvalidDataException"/> (malformed files), nothing else, for bad input.
/// </summary>
public sealed class UnsafePickleException : Exception
{
    /// <summary>Creates the exception for <paramref name="global"/> found in <paramref name="source"/> at <paramref name="offset"/>.</summary>
    public UnsafePickleException(string source, string global, long offset)
        : base($"{source}: the pickle refers to '{global}', which a weights-only reader does not allow; nothing was executed (at byte {offset}). " +
               "Only tensors, storages, OrderedDict and plain values can be read: if the file holds a whole pickled model or training state, " +
               "re-save its weights with torch.save(model.state_dict(), path) or as safetensors.")
    {
        FileName = source;
        Global = global;
    }

    /// <summary>The file (and archive entry) holding the pickle.</summary>
    public string FileName { get; }

    /// <summary>The refused global, as <c>module.name</c>.</summary>
    public string Global { get; }
}
