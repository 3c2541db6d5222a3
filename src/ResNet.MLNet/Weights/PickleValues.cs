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
/// Keys from files are hashed with a per-process random seed over all their bits (see <see cref="KeyComparer"/>), so a
/// file cannot choose keys that collide (integers whose 64-bit halves are equal all hash to 0 with <c>long.GetHashCode</c>).
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

    /// <summary>
    /// Value equality for strings, numbers and booleans, reference equality otherwise. Strings use .NET's randomized
    /// string hash; numbers go through <see cref="HashCode"/> (randomly seeded per process) over all their bits.
    /// </summary>
    internal sealed class KeyComparer : IEqualityComparer<object>
    {
        public static readonly KeyComparer Instance = new();

        public new bool Equals(object? x, object? y) =>
            IsValue(x) ? x!.Equals(y) : ReferenceEquals(x, y);

        public int GetHashCode(object obj) => obj switch
        {
            long n => HashCode.Combine((int)n, (int)(n >> 32)),
            double d => d == 0 || double.IsNaN(d) ? d.GetHashCode() : HashCode.Combine(BitConverter.DoubleToInt64Bits(d)), // 0.0 == -0.0; NaN equals NaN
            BigInteger b => BigHash(b),
            _ when IsValue(obj) => obj.GetHashCode(),
            _ => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj),
        };

        private static int BigHash(BigInteger value)
        {
            var hash = new HashCode();
            hash.AddBytes(value.ToByteArray());
            return hash.ToHashCode();
        }

        private static bool IsValue(object? o) => o is string or long or bool or double or BigInteger;
    }
}
