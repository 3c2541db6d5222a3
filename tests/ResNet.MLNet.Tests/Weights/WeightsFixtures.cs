using System.Text.Json;
using ResNet.MLNet.Weights;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Weights;

/// <summary>The committed fixtures of Fixtures/weights (made by make_weights_fixtures.py) and helpers to compare tensors.</summary>
internal static class WeightsFixtures
{
    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "weights", name);

    public static WeightsFileContent Read(string name) => WeightsFile.Read(PathOf(name));

    public static JsonElement Json(string name) => JsonDocument.Parse(File.ReadAllText(PathOf(name))).RootElement;

    /// <summary>A fresh directory under the system temp folder, deleted by the caller's <c>using</c>.</summary>

    /// <summary>Every element as a double, whatever the type (BF16 from its bits, bool as 0/1).</summary>
    public static double[] Values(NamedTensor t) => t.DType switch
    {
        ScalarType.Float32 => t.ToArray<float>().Select(v => (double)v).ToArray(),
        ScalarType.Float16 => t.ToArray<Half>().Select(v => (double)v).ToArray(),
        ScalarType.BFloat16 => t.ToArray<ushort>().Select(v => (double)BitConverter.Int32BitsToSingle(v << 16)).ToArray(),
        ScalarType.Float64 => t.ToArray<double>(),
        ScalarType.Int64 => t.ToArray<long>().Select(v => (double)v).ToArray(),
        ScalarType.Int32 => t.ToArray<int>().Select(v => (double)v).ToArray(),
        ScalarType.Int16 => t.ToArray<short>().Select(v => (double)v).ToArray(),
        ScalarType.Int8 => t.ToArray<sbyte>().Select(v => (double)v).ToArray(),
        ScalarType.Byte => t.ToArray<byte>().Select(v => (double)v).ToArray(),
        ScalarType.Bool => t.ToArray<bool>().Select(v => v ? 1.0 : 0.0).ToArray(),
        _ => throw new NotSupportedException(t.DType.ToString()),
    };

    /// <summary>Asserts the tensors equal a JSON description {name: {dtype, shape, values}} written by the fixture script, in order.</summary>
    public static void AssertMatchesJson(IReadOnlyList<NamedTensor> tensors, JsonElement expected)
    {
        var names = expected.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(names, tensors.Select(t => t.Name));
        foreach (var t in tensors)
        {
            var e = expected.GetProperty(t.Name);
            Assert.Equal(e.GetProperty("dtype").GetString(), t.DTypeName);
            Assert.Equal(e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), t.Shape);
            var values = e.GetProperty("values").EnumerateArray();
            if (t.DType == ScalarType.Int64) // beyond 2^53 doubles round: compare exactly
                Assert.Equal(values.Select(v => v.GetInt64()), t.ToArray<long>());
            else
                Assert.Equal(values.Select(v => v.GetDouble()), Values(t));
        }
    }

    /// <summary>Asserts two tensor lists hold the same names, types, shapes and bytes, in order.</summary>
    public static void AssertSameTensors(IReadOnlyList<NamedTensor> expected, IReadOnlyList<NamedTensor> actual)
    {
        Assert.Equal(expected.Select(t => t.ToString()), actual.Select(t => t.ToString()));
        for (int i = 0; i < expected.Count; i++)
            Assert.True(expected[i].Data.Span.SequenceEqual(actual[i].Data.Span), $"bytes of '{expected[i].Name}' differ");
    }
}
