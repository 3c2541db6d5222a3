using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ResNet.MLNet;

/// <summary>
/// Builds ML.NET <see cref="SchemaShape"/> columns, whose constructor ML.NET keeps internal (third-party estimators
/// need it to answer <c>GetOutputSchema</c>, and ML.NET does not support them: dotnet/machinelearning#3243); found by
/// reflection once.
/// </summary>
internal static class SchemaShapes
{
    private static readonly ConstructorInfo ColumnConstructor = typeof(SchemaShape.Column)
        .GetConstructors(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)
        .Single(c => c.GetParameters().Length == 5);

    /// <summary>A column of the given kind and item type.</summary>
    public static SchemaShape.Column Column(string name, SchemaShape.Column.VectorKind kind, DataViewType itemType, bool isKey = false) =>
        (SchemaShape.Column)ColumnConstructor.Invoke([name, kind, itemType, isKey, null]);

    /// <summary>The shape of a schema's visible columns.</summary>
    public static SchemaShape Of(DataViewSchema schema) => new(schema.Where(c => !c.IsHidden).Select(c => c.Type switch
    {
        VectorDataViewType { Size: > 0 } v => Column(c.Name, SchemaShape.Column.VectorKind.Vector, ItemOf(v.ItemType), v.ItemType is KeyDataViewType),
        VectorDataViewType v => Column(c.Name, SchemaShape.Column.VectorKind.VariableVector, ItemOf(v.ItemType), v.ItemType is KeyDataViewType),
        var t => Column(c.Name, SchemaShape.Column.VectorKind.Scalar, ItemOf(t), t is KeyDataViewType),
    }));

    /// <summary>A schema shape describes a key column by its raw integer type and the key flag.</summary>
    private static DataViewType ItemOf(DataViewType type) => type switch
    {
        KeyDataViewType { RawType: var raw } when raw == typeof(byte) => NumberDataViewType.Byte,
        KeyDataViewType { RawType: var raw } when raw == typeof(ushort) => NumberDataViewType.UInt16,
        KeyDataViewType { RawType: var raw } when raw == typeof(ulong) => NumberDataViewType.UInt64,
        KeyDataViewType => NumberDataViewType.UInt32,
        _ => type,
    };

    /// <summary>The visible column of that name, if any.</summary>
    public static SchemaShape.Column? Find(SchemaShape shape, string name) =>
        shape.LastOrDefault(c => c.Name == name) is { Name: not null } found ? found : null;

    /// <summary>The shape with <paramref name="column"/> added (replacing a column of the same name).</summary>
    public static SchemaShape With(SchemaShape shape, SchemaShape.Column column) =>
        new(shape.Where(c => c.Name != column.Name).Append(column));
}
