using Microsoft.ML;
using Microsoft.ML.Data;

namespace ResNet.MLNet;

/// <summary>
/// The estimators' view of their input columns, from either of ML.NET's descriptions of a schema (the
/// <see cref="SchemaShape"/> that <c>GetOutputSchema</c> receives, the <see cref="DataViewSchema"/> that <c>Fit</c>
/// sees), and the columns they add to a <see cref="SchemaShape"/>. ML.NET keeps the constructor of
/// <see cref="SchemaShape.Column"/> internal (third-party estimators are not a scenario it supports:
/// dotnet/machinelearning#3243); its public <c>CustomMapping</c> estimator describes the columns a mapping adds from a
/// <see cref="SchemaDefinition"/>, so the added columns are asked of it.
/// </summary>
internal static class SchemaShapes
{
    private static readonly MLContext Context = new(seed: 0);

    /// <summary>The visible column of that name in a schema shape, if any.</summary>
    public static ColumnShape? Find(SchemaShape shape, string name) =>
        shape.LastOrDefault(c => c.Name == name) is { Name: not null } found ? new ColumnShape(found.Kind, found.ItemType, found.IsKey) : null;

    /// <summary>The visible column of that name in a schema, described as a schema shape would (a key by its raw type).</summary>
    public static ColumnShape? Find(DataViewSchema schema, string name) => schema.GetColumnOrNull(name) is { IsHidden: false } column
        ? column.Type switch
        {
            VectorDataViewType { Size: > 0 } v => new ColumnShape(SchemaShape.Column.VectorKind.Vector, ItemOf(v.ItemType), v.ItemType is KeyDataViewType),
            VectorDataViewType v => new ColumnShape(SchemaShape.Column.VectorKind.VariableVector, ItemOf(v.ItemType), v.ItemType is KeyDataViewType),
            var t => new ColumnShape(SchemaShape.Column.VectorKind.Scalar, ItemOf(t), t is KeyDataViewType),
        }
        : null;

    /// <summary>The shape with a float vector column <paramref name="name"/> added (replacing a column of that name).</summary>
    public static SchemaShape WithFloatVector(SchemaShape shape, string name) =>
        With<VBuffer<float>>(shape, name, new VectorDataViewType(NumberDataViewType.Single, 1));

    /// <summary>The shape with a key column <paramref name="name"/> added (replacing a column of that name).</summary>
    public static SchemaShape WithKey(SchemaShape shape, string name) =>
        With<uint>(shape, name, new KeyDataViewType(typeof(uint), 1));

    private static SchemaShape With<T>(SchemaShape shape, string name, DataViewType type)
    {
        var definition = SchemaDefinition.Create(typeof(AddedColumn<T>));
        definition[0].ColumnName = name;
        definition[0].ColumnType = type;
        var added = Context.Transforms.CustomMapping<NoColumns, AddedColumn<T>>((_, _) => { }, contractName: null, outputSchemaDefinition: definition)
            .GetOutputSchema(new SchemaShape([]))
            .Single(c => c.Name == name);
        return new SchemaShape(shape.Where(c => c.Name != name).Append(added));
    }

    /// <summary>A schema shape describes a key column by its raw integer type and the key flag.</summary>
    private static DataViewType ItemOf(DataViewType type) => type switch
    {
        KeyDataViewType { RawType: var raw } when raw == typeof(byte) => NumberDataViewType.Byte,
        KeyDataViewType { RawType: var raw } when raw == typeof(ushort) => NumberDataViewType.UInt16,
        KeyDataViewType { RawType: var raw } when raw == typeof(ulong) => NumberDataViewType.UInt64,
        KeyDataViewType => NumberDataViewType.UInt32,
        _ => type,
    };

    private sealed class NoColumns { }

    private sealed class AddedColumn<T>
    {
        public T Value { get; set; } = default!;
    }
}

/// <summary>A column as the estimators' checks see it: scalar or vector, its item type (a key's raw type), key or not.</summary>
internal readonly record struct ColumnShape(SchemaShape.Column.VectorKind Kind, DataViewType ItemType, bool IsKey)
{
    /// <summary>As ML.NET's schema-mismatch messages give a type: <c>Single</c>, <c>Vector&lt;Single&gt;</c>, <c>VarVector&lt;Single&gt;</c>.</summary>
    public override string ToString() => Kind switch
    {
        SchemaShape.Column.VectorKind.Scalar => ItemType.ToString()!,
        SchemaShape.Column.VectorKind.Vector => $"Vector<{ItemType}>",
        _ => $"VarVector<{ItemType}>",
    };
}
