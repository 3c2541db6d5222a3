using static TorchSharp.torch;

namespace ResNet.MLNet.Weights;

/// <summary>
/// The element types the weight files can carry, with their names in each format: one row per type, so no format
/// keeps its own copy of the facts (FORMATS.md).
/// </summary>
internal static class DTypes
{
    /// <param name="Type">TorchSharp's (c10's) scalar type; its integer value is the TorchSharp file code.</param>
    /// <param name="Size">Bytes per element.</param>
    /// <param name="SafeTensors">The safetensors <c>dtype</c> string.</param>
    /// <param name="Storage">The legacy typed storage class, <c>torch.XStorage</c>.</param>
    /// <param name="Torch">The <c>torch</c> dtype attribute, as in <c>torch.float32</c>.</param>
    internal sealed record Info(ScalarType Type, int Size, string SafeTensors, string Storage, string Torch);

    private static readonly Info[] Table =
    [
        new(ScalarType.Float32, 4, "F32", "FloatStorage", "float32"),
        new(ScalarType.Float16, 2, "F16", "HalfStorage", "float16"),
        new(ScalarType.BFloat16, 2, "BF16", "BFloat16Storage", "bfloat16"),
        new(ScalarType.Float64, 8, "F64", "DoubleStorage", "float64"),
        new(ScalarType.Int64, 8, "I64", "LongStorage", "int64"),
        new(ScalarType.Int32, 4, "I32", "IntStorage", "int32"),
        new(ScalarType.Int16, 2, "I16", "ShortStorage", "int16"),
        new(ScalarType.Int8, 1, "I8", "CharStorage", "int8"),
        new(ScalarType.Byte, 1, "U8", "ByteStorage", "uint8"),
        new(ScalarType.Bool, 1, "BOOL", "BoolStorage", "bool"),
    ];

    /// <summary>safetensors dtypes that are valid in a file but have no TorchSharp type, with their element sizes.</summary>
    private static readonly Dictionary<string, int> UnsupportedSafeTensors = new(StringComparer.Ordinal)
    {
        ["F8_E5M2"] = 1, ["F8_E4M3"] = 1, ["U16"] = 2, ["U32"] = 4, ["U64"] = 8,
    };

    /// <summary>Every supported type.</summary>
    public static IReadOnlyList<Info> All => Table;

    /// <summary>The row of a supported type.</summary>
    /// <exception cref="ArgumentException">The type is not one the weight files support.</exception>
    public static Info Of(ScalarType type) =>
        Table.FirstOrDefault(i => i.Type == type)
        ?? throw new ArgumentException($"Tensor type {type} is not supported in weight files; supported: {string.Join(", ", Table.Select(i => i.Torch))}.", nameof(type));

    /// <summary>The row of a supported type, or null.</summary>
    public static Info? Find(ScalarType type) => Table.FirstOrDefault(i => i.Type == type);

    /// <summary>Bytes per element of a supported type.</summary>
    public static int SizeOf(ScalarType type) => Of(type).Size;

    /// <summary>The row of a safetensors dtype string, null when it names no supported type.</summary>
    public static Info? FromSafeTensors(string name) => Table.FirstOrDefault(i => i.SafeTensors == name);

    /// <summary>The element size of any dtype the safetensors format defines, null for an unknown name.</summary>
    public static int? SafeTensorsSize(string name) =>
        FromSafeTensors(name)?.Size ?? (UnsupportedSafeTensors.TryGetValue(name, out int size) ? size : null);

    /// <summary>The row of a <c>torch.XStorage</c> class name, or null.</summary>
    public static Info? FromStorage(string name) => Table.FirstOrDefault(i => i.Storage == name);

    /// <summary>The row of a <c>torch.&lt;dtype&gt;</c> attribute name, or null.</summary>
    public static Info? FromTorch(string name) => Table.FirstOrDefault(i => i.Torch == name);

    /// <summary>The row of a TorchSharp file code (the c10 scalar type number), or null.</summary>
    public static Info? FromCode(long code) => Table.FirstOrDefault(i => (long)i.Type == code);
}
