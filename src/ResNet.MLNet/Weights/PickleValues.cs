using System.Numerics;

namespace ResNet.MLNet.Weights;

/// <summary>A pickled reference to a module-level name (<c>module.name</c>), kept as a name; never resolved to code.</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>
/// A pickled dict (or <c>collections.OrderedDict</c>) in insertion order. Keys compare by value for strings, numbers and
/// booleans and by reference otherwise. Instance state set by BUILD (an OrderedDict's <c>_metadata</c>) is dropped.
/// </summary>
internal sealed class PickleDict
{
    private static readonly object NoneKey = new();
    private readonly List<KeyValuePair<object?, object?>> entries = [];
    private readonly Dictionary<object, int> index = new(KeyComparer.Instance);

    public int Count => entries.Count;

    public IReadOnlyList<KeyValuePair<object?, object?>> Entries => entries;

    public void Set(object? key, object? value)
    {
        if (index.TryGetValue(key ?? NoneKey, out int at))
        {
            entries[at] = new(entries[at].Key, value);
            return;
        }
        index[key ?? NoneKey] = entries.Count;
        entries.Add(new(key, value));
    }

    public bool TryGet(object? key, out object? value)
    {
        if (index.TryGetValue(key ?? NoneKey, out int at))
        {
            value = entries[at].Value;
            return true;
        }
        value = null;
        return false;
    }

    private sealed class KeyComparer : IEqualityComparer<object>
    {
        public static readonly KeyComparer Instance = new();

        public new bool Equals(object? x, object? y) =>
            IsValue(x) ? x!.Equals(y) : ReferenceEquals(x, y);

        public int GetHashCode(object obj) =>
            IsValue(obj) ? obj.GetHashCode() : System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj);

        private static bool IsValue(object? o) => o is string or long or bool or double or BigInteger;
    }
}
