using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace ResNet.MLNet.Weights;

/// <summary>
/// One tensor of a weight file, held in managed memory without libtorch: its key, element type, shape and raw
/// little-endian bytes in C (row-major) order. Readers may share one buffer between tensors; treat it as read-only.
/// </summary>
public sealed class NamedTensor
{
    /// <summary>Creates a tensor, checking that <paramref name="data"/> holds exactly shape x element-size bytes.</summary>
    /// <exception cref="ArgumentException">The type is unsupported, a dimension is negative, or the byte count is wrong.</exception>
    public NamedTensor(string name, ScalarType dtype, IReadOnlyList<long> shape, ReadOnlyMemory<byte> data)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        int size = DTypes.SizeOf(dtype);
        long count = ElementCountOf(shape) ?? throw new ArgumentException($"Tensor '{name}' has an invalid shape [{string.Join(", ", shape)}].", nameof(shape));
        if (count > int.MaxValue / size || count * size != data.Length)
            throw new ArgumentException($"Tensor '{name}' of shape [{string.Join(", ", shape)}] and type {dtype} needs {count * size} bytes; got {data.Length}.", nameof(data));
        Name = name;
        DType = dtype;
        Shape = shape.ToArray();
        Data = data;
    }

    /// <summary>The key, e.g. <c>layer1.0.conv1.weight</c>.</summary>
    public string Name { get; }

    /// <summary>Element type.</summary>
    public ScalarType DType { get; }

    /// <summary>PyTorch's name of the element type: <c>float32</c>, <c>bfloat16</c>, <c>int64</c>, ...</summary>
    public string DTypeName => DTypes.Of(DType).Torch;

    /// <summary>Dimensions; empty for a scalar (0-d) tensor.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>Raw elements, little-endian, C order.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>Number of elements (1 for a scalar).</summary>
    public long ElementCount => Data.Length / DTypes.SizeOf(DType);

    /// <summary>A copy of a module's state dictionary in PyTorch's order (see <see cref="StateDictOrder.OrderedStateDict"/>).</summary>
    public static IReadOnlyList<NamedTensor> FromModel(nn.Module model) =>
        model.OrderedStateDict().Select(e => FromTensor(e.Key, e.Value)).ToList();

    /// <summary>The same data under another key.</summary>
    public NamedTensor WithName(string name) => new(name, DType, Shape, Data);

    /// <summary>
    /// The elements reinterpreted as <typeparamref name="T"/> (<c>float</c> for F32, <c>Half</c> for F16, <c>ushort</c>
    /// bits for BF16, <c>long</c> for I64, <c>bool</c> for BOOL, ...); the caller picks a type of the right size.
    /// </summary>
    /// <exception cref="InvalidOperationException">The size of <typeparamref name="T"/> differs from the element size.</exception>
    public T[] ToArray<T>() where T : unmanaged
    {
        if (Unsafe.SizeOf<T>() != DTypes.SizeOf(DType))
            throw new InvalidOperationException($"Tensor '{Name}' has {DType} elements of {DTypes.SizeOf(DType)} bytes; {typeof(T).Name} has {Unsafe.SizeOf<T>()}.");
        return MemoryMarshal.Cast<byte, T>(Data.Span).ToArray();
    }

    /// <summary>A new CPU TorchSharp tensor holding a copy of the data; the caller owns (and disposes) it.</summary>
    public Tensor ToTensor()
    {
        Native.TorchRuntime.EnsureInitialized();
        var tensor = empty(Shape.ToArray(), DType);
        if (Data.Length > 0)
            tensor.bytes = MemoryMarshal.AsMemory(Data).Span;
        return tensor;
    }

    /// <summary>Copies a TorchSharp tensor (any device, any layout) into a named tensor.</summary>
    /// <exception cref="ArgumentException">The tensor's type is not supported in weight files.</exception>
    public static NamedTensor FromTensor(string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        DTypes.Of(tensor.dtype);
        using var scope = NewDisposeScope();
        var cpu = tensor.detach().cpu().contiguous();
        return new NamedTensor(name, tensor.dtype, tensor.shape, cpu.bytes.ToArray());
    }

    /// <summary>The product of the dimensions, or null when one is negative or the product overflows.</summary>
    internal static long? ElementCountOf(IReadOnlyList<long> shape)
    {
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0)
                return null;
            try { count = checked(count * d); }
            catch (OverflowException) { return null; }
        }
        return count;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} {DTypeName} [{string.Join(", ", Shape)}]";
}
