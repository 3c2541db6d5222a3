using System.Reflection;
using Microsoft.ML.Runtime;

namespace ResNet.MLNet;

/// <summary>
/// Derives a seed for network initialization and data order from the MLContext behind an ML.NET catalog, so that
/// <c>new MLContext(seed)</c> makes our components deterministic like ML.NET's own. ML.NET keeps the catalog's
/// environment internal; it is found by reflection over the catalog's fields (and its owner, for trainer catalogs).
/// </summary>
internal static class MLContextSeed
{
    private const BindingFlags Instance = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;

    /// <summary>A seed that is the same for every MLContext created with the same seed; random where it has none.</summary>
    public static long From(object catalog, string component)
    {
        var environment = FindEnvironment(catalog, depth: 0);
        return environment is null ? Random.Shared.NextInt64() : environment.Register(component).Rand.NextInt64();
    }

    private static IHostEnvironment? FindEnvironment(object owner, int depth)
    {
        if (owner is IHostEnvironment direct)
            return direct;
        for (var type = owner.GetType(); type is not null && depth < 3; type = type.BaseType)
        {
            foreach (var field in type.GetFields(Instance))
            {
                if (typeof(IHostEnvironment).IsAssignableFrom(field.FieldType) && field.GetValue(owner) is IHostEnvironment env)
                    return env;
            }
            if (type.GetProperty("Owner", Instance)?.GetValue(owner) is { } parent)
                return FindEnvironment(parent, depth + 1);
        }
        return null;
    }
}
