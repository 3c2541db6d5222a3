namespace ResNet.MLNet.Weights;

/// <summary>
/// A weights file does not have the SHA-256 it should: a download that was discarded before reaching the cache, or a file
/// checked with <see cref="WeightsHash.Verify"/>. An <see cref="IOException"/> (<see cref="InvalidDataException"/> is sealed),
/// so <c>catch (IOException)</c> takes every download failure.
/// </summary>
public sealed class WeightsHashMismatchException : IOException
{
    /// <summary>Creates the exception; <paramref name="message"/> is shown as it is.</summary>
    public WeightsHashMismatchException(string message, string location, string expectedSha256, string actualSha256)
        : base(message)
    {
        Location = location;
        ExpectedSha256 = expectedSha256;
        ActualSha256 = actualSha256;
    }

    /// <summary>The URL downloaded from, or the path of the file checked.</summary>
    public string Location { get; }

    /// <summary>The full SHA-256 or the prefix the file should have had.</summary>
    public string ExpectedSha256 { get; }

    /// <summary>The SHA-256 the file has.</summary>
    public string ActualSha256 { get; }
}
