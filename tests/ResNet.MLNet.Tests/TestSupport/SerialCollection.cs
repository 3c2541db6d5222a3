namespace ResNet.MLNet.Tests.TestSupport;

/// <summary>Tests that read process-wide counters (TorchSharp's live tensors) run alone, not beside other test classes.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial (process-wide counters)";
}
