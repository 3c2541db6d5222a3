namespace ResNet.MLNet.Weights;

/// <summary>How <see cref="WeightsDownloader"/> fetches one file; every property has a working default. Values are checked as they are set.</summary>
public sealed record WeightsDownloadOptions
{
    private readonly string? cacheDirectory;
    private readonly string? fileName;
    private readonly string? sha256;
    private readonly int maxAttempts = Defaults.MaxAttempts;
    private readonly TimeSpan retryDelay = Defaults.RetryDelay;
    private readonly TimeSpan timeout = Defaults.Timeout;

    /// <summary>The defaults.</summary>
    public static class Defaults
    {
        /// <summary>Attempts before giving up on a transient failure: 5.</summary>
        public const int MaxAttempts = 5;

        /// <summary>Wait before the first retry, doubled at each further retry: 1 s.</summary>
        public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

        /// <summary>Longest wait for the server to answer or to send the next bytes: 30 s.</summary>
        public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    }

    /// <summary>The cache folder; null (the default) is torch hub's, <see cref="WeightsCache.Directory"/>.</summary>
    public string? CacheDirectory
    {
        get => cacheDirectory;
        init => cacheDirectory = value is "" ? throw new ArgumentException("CacheDirectory cannot be empty; null means torch hub's.", nameof(CacheDirectory)) : value;
    }

    /// <summary>The name of the file in the cache; null (the default) is the last segment of the URL's path, as torch hub names it.</summary>
    public string? FileName
    {
        get => fileName;
        init => fileName = value is null ? null : CheckFileName(value, nameof(FileName));
    }

    /// <summary>
    /// The expected SHA-256, full or a prefix (as in torchvision file names). Null (the default) checks the prefix the file name
    /// carries (<c>resnet50-11ad3fa6.pth</c>), if any. When both are there they must agree, and the longer one is checked.
    /// </summary>
    public string? Sha256
    {
        get => sha256;
        init => sha256 = value is null ? null : WeightsHash.Normalize(value, nameof(Sha256));
    }

    /// <summary>Receives the bytes received so far and the total when the server gives it; null reports nothing.</summary>
    public IProgress<WeightsDownloadProgress>? Progress { get; init; }

    /// <summary>Attempts before a transient failure (network error, timeout, HTTP 5xx, 408 or 429) is final; at least 1.</summary>
    public int MaxAttempts
    {
        get => maxAttempts;
        init => maxAttempts = value >= 1 ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxAttempts), value, "MaxAttempts must be at least 1.");
    }

    /// <summary>Wait before the first retry, doubled for each further one (at most one minute); zero or more.</summary>
    public TimeSpan RetryDelay
    {
        get => retryDelay;
        init => retryDelay = value >= TimeSpan.Zero ? value
            : throw new ArgumentOutOfRangeException(nameof(RetryDelay), value, "RetryDelay cannot be negative.");
    }

    /// <summary>Longest wait for response headers or for the next bytes of the body; a longer silence is a transient failure.</summary>
    public TimeSpan Timeout
    {
        get => timeout;
        init => timeout = value > TimeSpan.Zero ? value
            : throw new ArgumentOutOfRangeException(nameof(Timeout), value, "Timeout must be positive.");
    }

    /// <summary>A bare file name (no folder, not <c>.</c> or <c>..</c>), or an <see cref="ArgumentException"/> naming <paramref name="parameterName"/>.</summary>
    internal static string CheckFileName(string name, string parameterName)
    {
        if (name.Length == 0 || name is "." or ".." || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 ||
            name.Contains('/') || name.Contains('\\'))
            throw new ArgumentException($"'{name}' is not a file name (a name without a folder).", parameterName);
        return name;
    }
}

/// <summary>How far a download is.</summary>
/// <param name="BytesReceived">Bytes of the file on disk so far, including those of a resumed partial download.</param>
/// <param name="TotalBytes">The file's size, when the server gives it.</param>
public readonly record struct WeightsDownloadProgress(long BytesReceived, long? TotalBytes);
