using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ResNet.MLNet;

/// <summary>
/// Builds ML.NET <see cref="SchemaShape"/> columns, whose constructor ML.NET keeps internal (third-party estimators
/// need it to answer <c>GetOutputSchema</c>); found by reflection once.
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
        VectorDataViewType { Size: > 0 } v => Shape(c.Name, SchemaShape.Column.VectorKind.Vector, v.ItemType),
        VectorDataViewType v => Shape(c.Name, SchemaShape.Column.VectorKind.VariableVector, v.ItemType),
        var t => Shape(c.Name, SchemaShape.Column.VectorKind.Scalar, t),
    }));

    /// <summary>As ML.NET shapes a column: a key column has its raw integer type as item type and is marked as a key.</summary>
    private static SchemaShape.Column Shape(string name, SchemaShape.Column.VectorKind kind, DataViewType itemType) => itemType is KeyDataViewType key
        ? Column(name, kind, Type.GetTypeCode(key.RawType) switch
        {
            TypeCode.Byte => NumberDataViewType.Byte,
            TypeCode.UInt16 => NumberDataViewType.UInt16,
            TypeCode.UInt64 => NumberDataViewType.UInt64,
            _ => NumberDataViewType.UInt32,
        }, isKey: true)
        : Column(name, kind, itemType);

    /// <summary>The visible column of that name, if any.</summary>
    public static SchemaShape.Column? Find(SchemaShape shape, string name) =>
        shape.LastOrDefault(c => c.Name == name) is { Name: not null } found ? found : null;

    /// <summary>The shape with <paramref name="column"/> added (replacing a column of the same name).</summary>
    public static SchemaShape With(SchemaShape shape, SchemaShape.Column column) =>
        new(shape.Where(c => c.Name != column.Name).Append(column));
}
