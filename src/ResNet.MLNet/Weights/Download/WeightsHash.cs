using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace ResNet.MLNet.Weights;

/// <summary>
/// SHA-256 checks as torch hub makes them. torchvision names its files after the start of their SHA-256
/// (<c>resnet50-11ad3fa6.pth</c>), and torch hub's <c>check_hash</c> compares that prefix with the start of the file's hex
/// digest. An expected hash here is either a full SHA-256 (64 hex digits) or such a prefix.
/// </summary>
public static partial class WeightsHash
{
    /// <summary>
    /// The hash prefix a file name carries, by torch hub's <c>HASH_REGEX</c> (<c>-([a-f0-9]*)\.</c>, first match, lower-case
    /// hex only): <c>11ad3fa6</c> for <c>resnet50-11ad3fa6.pth</c>; null when the name carries none.
    /// </summary>
    public static string? FromFileName(string fileName)
    {
        var match = HashInFileName().Match(Path.GetFileName(fileName));
        return match.Success && match.Groups[1].Length > 0 ? match.Groups[1].Value : null;
    }

    /// <summary>Whether the hex digest <paramref name="actualSha256"/> starts with <paramref name="expectedSha256"/> (either case).</summary>
    public static bool Matches(string actualSha256, string expectedSha256) =>
        actualSha256.StartsWith(expectedSha256, StringComparison.OrdinalIgnoreCase);

    /// <summary>The SHA-256 of a file, as lower-case hex.</summary>
    public static string ComputeSha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>
    /// Checks a file (for example one in the cache, which downloads use without re-hashing) against
    /// <paramref name="expectedSha256"/>, or against the prefix its name carries when that is null.
    /// </summary>
    /// <exception cref="WeightsHashMismatchException">The file's hash differs; the file is left where it is.</exception>
    /// <exception cref="ArgumentException">No hash is given and the file name carries none, or the hash is not hex.</exception>
    public static void Verify(string path, string? expectedSha256 = null)
    {
        string expected = expectedSha256 is null
            ? FromFileName(path) ?? throw new ArgumentException(
                $"No hash to check '{path}' against: its name carries none (as in resnet50-11ad3fa6.pth), pass one.", nameof(expectedSha256))
            : Normalize(expectedSha256, nameof(expectedSha256));
        string actual = ComputeSha256(path);
        if (!Matches(actual, expected))
            throw new WeightsHashMismatchException(
                $"{path} has SHA-256 {actual}, expected {expected}: the file is damaged or not the one expected.", path, expected, actual);
    }

    /// <summary>
    /// The hash to check a file called <paramref name="fileName"/> against: the longer of <paramref name="expectedSha256"/> and
    /// the name's prefix, or null when there is neither.
    /// </summary>
    /// <exception cref="ArgumentException">The two disagree, so no file could pass.</exception>
    internal static string? Expected(string? expectedSha256, string fileName)
    {
        string? fromName = FromFileName(fileName);
        if (expectedSha256 is null || fromName is null)
            return expectedSha256 ?? fromName;
        if (!Matches(expectedSha256, fromName) && !Matches(fromName, expectedSha256))
            throw new ArgumentException(
                $"Sha256 '{expectedSha256}' disagrees with the hash prefix '{fromName}' in the file name '{fileName}'.", nameof(WeightsDownloadOptions.Sha256));
        return expectedSha256.Length >= fromName.Length ? expectedSha256 : fromName;
    }

    /// <summary>A full SHA-256 or a prefix of one, in lower case.</summary>
    /// <exception cref="ArgumentException">Empty, longer than 64 characters or not hex; names <paramref name="parameterName"/>.</exception>
    internal static string Normalize(string sha256, string parameterName)
    {
        if (sha256.Length is 0 or > 64 || !sha256.All(char.IsAsciiHexDigit))
            throw new ArgumentException(
                $"'{sha256}' is not a SHA-256 or a prefix of one (1 to 64 hex digits).", parameterName);
        return sha256.ToLowerInvariant();
    }

    [GeneratedRegex(@"-([a-f0-9]*)\.", RegexOptions.CultureInvariant)]
    private static partial Regex HashInFileName();
}
