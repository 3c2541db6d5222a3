namespace ResNet.MLNet.Weights;

/// <summary>A strict load found keys or shapes that do not fit the model; <see cref="Report"/> lists every one of them.
/// Nothing was copied into the model.</summary>
public sealed class WeightsMismatchException(LoadingReport report) : Exception(report.Describe(includeLoaded: false))
{
    /// <summary>The full comparison of the file with the model.</summary>
    public LoadingReport Report { get; } = report;
}
