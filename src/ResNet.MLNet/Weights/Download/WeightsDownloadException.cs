using System.Net;

namespace ResNet.MLNet.Weights;

/// <summary>
/// Weights could not be brought into the cache: an HTTP error, a network that failed through every retry, offline mode
/// without the file in the cache, or a cache folder that cannot be created or written. The message is one line naming the
/// URL or the folder at fault; a wrong file raises <see cref="WeightsHashMismatchException"/> instead.
/// </summary>
public sealed class WeightsDownloadException : IOException
{
    /// <summary>Creates the exception; <paramref name="message"/> is shown as it is.</summary>
    public WeightsDownloadException(string message, string url, string path, HttpStatusCode? statusCode = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Url = url;
        Path = path;
        StatusCode = statusCode;
    }

    /// <summary>The URL the file was, or would have been, downloaded from (the mirror's when one is set).</summary>
    public string Url { get; }

    /// <summary>The path the file has in the cache once downloaded.</summary>
    public string Path { get; }

    /// <summary>The HTTP status that ended the download, or null when it ended otherwise.</summary>
    public HttpStatusCode? StatusCode { get; }
}
