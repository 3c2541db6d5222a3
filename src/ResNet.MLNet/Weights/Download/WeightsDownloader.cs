using System.Net;
using System.Net.Http.Headers;

namespace ResNet.MLNet.Weights;

/// <summary>
/// Brings a weights file into the cache (torch hub's, <see cref="WeightsCache.Directory"/>, unless
/// <see cref="WeightsDownloadOptions.CacheDirectory"/> names another) and returns its path. A file already there is used as it
/// is, without network and without re-hashing, as torch hub does. Otherwise the file is streamed into <c>name.partial</c>
/// while being hashed, checked against its SHA-256 (full, or the prefix torchvision puts in file names) and only then renamed
/// into place, so the cache never holds a partial or wrong file under the real name.
/// </summary>
/// <remarks>
/// <para>Transient failures (network errors, timeouts, HTTP 5xx, 408, 429) are retried with exponential backoff; a retry, or
/// a later download after the attempts ran out, continues the <c>.partial</c> file with an HTTP <c>Range</c> request, and
/// starts over when the server sends the whole file instead (200) or the partial file is longer than the file (416), and
/// once more when bytes left by an earlier download make the file fail its hash. Other HTTP errors (404, 403...) fail at once.</para>
/// <para>Environment: <c>RESNET_MLNET_WEIGHTS_MIRROR</c> replaces the base URL of every download (mirror + "/" + file
/// name); <c>RESNET_MLNET_OFFLINE=1</c> forbids the network, and a file missing from the cache fails naming where to put it.</para>
/// </remarks>
public sealed class WeightsDownloader
{
    /// <summary>Environment variable: a base URL that replaces the one of every download (the file name is appended).</summary>
    public const string MirrorVariable = "RESNET_MLNET_WEIGHTS_MIRROR";

    /// <summary>Environment variable: <c>1</c> (or <c>true</c>, <c>yes</c>, <c>on</c>) forbids downloads; cached files are still used.</summary>
    public const string OfflineVariable = "RESNET_MLNET_OFFLINE";

    private static readonly HttpClient SharedClient = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
    {
        Timeout = System.Threading.Timeout.InfiniteTimeSpan, // WeightsDownloadOptions.Timeout bounds each wait instead
    };

    private static readonly ProductInfoHeaderValue UserAgent =
        new("ResNet.MLNet", typeof(WeightsDownloader).Assembly.GetName().Version?.ToString(3) ?? "0");

    private readonly HttpClient client;

    /// <summary>A downloader sending its requests through <paramref name="httpClient"/>, or through one shared client when null.</summary>
    public WeightsDownloader(HttpClient? httpClient = null) => client = httpClient ?? SharedClient;

    /// <summary>The downloader with the shared client.</summary>
    public static WeightsDownloader Shared { get; } = new();

    /// <summary><see cref="DownloadAsync"/> for callers that are not async.</summary>
    public string Download(string url, WeightsDownloadOptions? options = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => DownloadAsync(url, options, cancellationToken), CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>Returns the path of the file from <paramref name="url"/> in the cache, downloading it first when it is not there.</summary>
    /// <param name="url">An absolute http or https URL; its last path segment names the file unless <see cref="WeightsDownloadOptions.FileName"/> does.</param>
    /// <param name="options">Cache folder, file name, expected hash, progress, retries; null takes the defaults.</param>
    /// <param name="cancellationToken">Stops the download; the <c>.partial</c> file is kept for a later resume.</param>
    /// <exception cref="WeightsHashMismatchException">The file received has another SHA-256; it was deleted, the cache is as it was.</exception>
    /// <exception cref="WeightsDownloadException">HTTP error, network failure through every attempt, offline mode, or a cache folder that cannot be created or written.</exception>
    /// <exception cref="ArgumentException"><paramref name="url"/> is not an http(s) URL ending in a file name, or its hash disagrees with <see cref="WeightsDownloadOptions.Sha256"/>.</exception>
    /// <exception cref="InvalidOperationException"><c>RESNET_MLNET_WEIGHTS_MIRROR</c> is not an http(s) URL.</exception>
    public async Task<string> DownloadAsync(string url, WeightsDownloadOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new WeightsDownloadOptions();
        Uri source = HttpUrl(url) ?? throw new ArgumentException($"'{url}' is not an absolute http or https URL.", nameof(url));
        string fileName = options.FileName ?? FileNameOf(source);
        string? expected = WeightsHash.Expected(options.Sha256, fileName);
        Uri from = Mirrored(source, fileName);
        string target = WeightsCache.GetPath(fileName, options.CacheDirectory);
        if (File.Exists(target))
            return target;
        string folder = Path.GetDirectoryName(target)!;
        if (IsOffline())
            throw new WeightsDownloadException(
                $"{OfflineVariable} forbids downloads and {fileName} is not in the weights cache: download it from {from} and place it in {folder} (as {target}).",
                from.AbsoluteUri, target);
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string? file = AncestorFile(folder);
            throw new WeightsDownloadException(
                $"Cannot create the weights cache folder {folder}: {(file is null ? e.Message : $"{file} is a file, not a folder.")}",
                from.AbsoluteUri, target, innerException: e);
        }
        using var partial = new PartialDownload(target, from.AbsoluteUri);
        bool leftOver = partial.Length > 0;
        string actual = await FetchAsync(partial, from, options, cancellationToken).ConfigureAwait(false);
        if (leftOver && expected is not null && !WeightsHash.Matches(actual, expected))
        {
            // The bytes an earlier download left may belong to another version of the file: try once more from zero.
            partial.Delete();
            actual = await FetchAsync(partial, from, options, cancellationToken).ConfigureAwait(false);
        }
        if (expected is not null && !WeightsHash.Matches(actual, expected))
        {
            partial.Delete();
            throw new WeightsHashMismatchException(
                $"{from} sent a file with SHA-256 {actual}, expected {expected}: it was deleted, nothing was added to {folder}.",
                from.AbsoluteUri, expected, actual);
        }
        partial.MoveTo(target);
        return target;
    }

    /// <summary>Fills the partial file, retrying transient failures; returns the SHA-256 of the complete file.</summary>
    private async Task<string> FetchAsync(PartialDownload partial, Uri url, WeightsDownloadOptions options, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await AttemptAsync(partial, url, options, cancellationToken).ConfigureAwait(false);
                return partial.Complete();
            }
            catch (Exception e) when (IsTransient(e, cancellationToken) && attempt < options.MaxAttempts)
            {
                double seconds = Math.Min(options.RetryDelay.TotalSeconds * Math.Pow(2, attempt - 1), 60);
                await Task.Delay(TimeSpan.FromSeconds(seconds), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsTransient(e, cancellationToken))
            {
                long kept = partial.Length;
                string reason = e is OperationCanceledException ? $"no answer for {options.Timeout.TotalSeconds:0.###} s" : e.Message;
                string next = kept > 0
                    ? $"the {kept} bytes received are kept in {partial.Path} and the next download resumes from there"
                    : "nothing was added to the cache";
                throw new WeightsDownloadException(
                    $"Downloading {url} failed after {attempt} attempt(s): {reason.ReplaceLineEndings(" ")}; {next}.",
                    url.AbsoluteUri, partial.Target, (e as HttpRequestException)?.StatusCode, e);
            }
        }
    }

    /// <summary>One request: resumes the partial file when the server honours the range, else starts it over.</summary>
    private async Task AttemptAsync(PartialDownload partial, Uri url, WeightsDownloadOptions options, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        long offset = partial.Length;
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.UserAgent.Add(UserAgent);
        if (offset > 0)
            request.Headers.Range = new RangeHeaderValue(offset, null);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
        long? total;
        switch (response.StatusCode)
        {
            case HttpStatusCode.PartialContent when offset > 0:
                var range = response.Content.Headers.ContentRange;
                if (range?.From != offset)
                {
                    partial.Restart();
                    throw new IOException($"{url} answered a request for bytes {offset}- with bytes {range?.From}-; starting over.");
                }
                partial.Resume();
                total = range.Length;
                break;
            case HttpStatusCode.OK:
                partial.Restart();
                total = response.Content.Headers.ContentLength;
                break;
            case HttpStatusCode.RequestedRangeNotSatisfiable when offset > 0:
                partial.Restart(); // the partial file is longer than the file: not a beginning of it
                await AttemptAsync(partial, url, options, cancellationToken).ConfigureAwait(false);
                return;
            case var status when IsTransient(status):
                throw new HttpRequestException($"HTTP {(int)status} ({response.ReasonPhrase})", null, status);
            case var status:
                throw new WeightsDownloadException(
                    $"Downloading {url} failed: HTTP {(int)status} ({response.ReasonPhrase}); the cache was left as it was.",
                    url.AbsoluteUri, partial.Target, status);
        }
        options.Progress?.Report(new WeightsDownloadProgress(partial.Length, total));
        await using var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
        byte[] buffer = new byte[1 << 16];
        while (true)
        {
            timeout.CancelAfter(options.Timeout);
            int read = await body.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
            if (read == 0)
                break;
            await partial.AppendAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
            options.Progress?.Report(new WeightsDownloadProgress(partial.Length, total));
        }
        if (total is long expectedLength && partial.Length != expectedLength)
            throw new IOException($"the connection closed after {partial.Length} of {expectedLength} bytes");
    }

    private static bool IsTransient(Exception e, CancellationToken cancellationToken) => e switch
    {
        WeightsDownloadException or WeightsHashMismatchException => false,
        OperationCanceledException => !cancellationToken.IsCancellationRequested, // our timeout, not the caller's token
        HttpRequestException { StatusCode: HttpStatusCode status } => IsTransient(status),
        HttpRequestException or IOException or TimeoutException => true,
        _ => false,
    };

    private static bool IsTransient(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    private static Uri? HttpUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) ? uri : null;

    /// <summary>The last segment of the URL's path, as torch hub names cached files.</summary>
    private static string FileNameOf(Uri url)
    {
        string name = url.AbsolutePath[(url.AbsolutePath.LastIndexOf('/') + 1)..];
        if (name.Length == 0)
            throw new ArgumentException($"'{url}' does not end in a file name: set WeightsDownloadOptions.FileName.", nameof(url));
        return WeightsDownloadOptions.CheckFileName(name, "url");
    }

    private static Uri Mirrored(Uri source, string fileName)
    {
        string? mirror = Environment.GetEnvironmentVariable(MirrorVariable);
        if (string.IsNullOrEmpty(mirror))
            return source;
        return HttpUrl(mirror) is { Query: "", Fragment: "" } && HttpUrl(mirror.TrimEnd('/') + "/" + fileName) is { } mirrored
            ? mirrored
            : throw new InvalidOperationException(
                $"{MirrorVariable}='{mirror}' is not an http or https base URL (such as https://mirror.example/models) to put file names after.");
    }

    /// <summary>The file standing where <paramref name="folder"/> or one of its parents should be, if any (.NET only says "could not find a part of the path").</summary>
    private static string? AncestorFile(string folder)
    {
        for (string? path = folder; path is not null; path = Path.GetDirectoryName(path))
        {
            if (File.Exists(path))
                return path;
        }
        return null;
    }

    private static bool IsOffline() =>
        Environment.GetEnvironmentVariable(OfflineVariable)?.Trim().ToLowerInvariant() is "1" or "true" or "yes" or "on";
}
