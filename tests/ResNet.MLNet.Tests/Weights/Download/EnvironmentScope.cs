namespace ResNet.MLNet.Tests.Weights.Download;

/// <summary>
/// Sets process environment variables (null removes one) and puts the previous values back on dispose. Environment variables
/// are process-wide: test classes run one after another here (xunit.runner.json), so a scope never leaks into another test.
/// </summary>
internal sealed class EnvironmentScope : IDisposable
{
    private readonly Dictionary<string, string?> previous = [];

    public EnvironmentScope(params (string Name, string? Value)[] variables)
    {
        foreach (var (name, value) in variables)
            Set(name, value);
    }

    public void Set(string name, string? value)
    {
        previous.TryAdd(name, Environment.GetEnvironmentVariable(name));
        Environment.SetEnvironmentVariable(name, value);
    }

    public void Dispose()
    {
        foreach (var (name, value) in previous)
            Environment.SetEnvironmentVariable(name, value);
    }
}
