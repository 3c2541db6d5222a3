using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ResNet.MLNet.Tests.Weights.Download;

/// <summary>
/// A small HTTP/1.1 file server on 127.0.0.1 (ephemeral port), one request per connection, that can misbehave on demand:
/// answer with given statuses first, cut responses short, ignore <c>Range</c>. It records every request it sees.
/// </summary>
internal sealed class LoopbackHttpServer : IDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stop = new();
    private readonly ConcurrentQueue<HttpStatusCode> statuses = new();
    private readonly Task accepting;
    private int responsesToCut;
    private bool stallCutResponses;

    public LoopbackHttpServer()
    {
        listener.Start();
        accepting = Task.Run(AcceptAsync);
    }

    /// <summary>The server's root, without a trailing slash.</summary>
    public string BaseUrl => $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";

    /// <summary>Files served, by request path (<c>/models/a.pth</c>).</summary>
    public ConcurrentDictionary<string, byte[]> Files { get; } = new();

    /// <summary>Whether a <c>Range: bytes=N-</c> request is answered with 206 and the rest of the file (else 200 and all of it).</summary>
    public bool SupportsRange { get; set; } = true;

    /// <summary>How many body bytes a cut response sends before the connection is closed.</summary>
    public int CutAfterBytes { get; set; }

    /// <summary>Requests seen, in order: path and <c>Range</c> header (null when absent).</summary>
    public ConcurrentQueue<(string Path, string? Range)> Requests { get; } = new();

    /// <summary>Serves <paramref name="content"/> at <c>/models/<paramref name="name"/></c> and returns its URL.</summary>
    public string Serve(string name, byte[] content)
    {
        Files["/models/" + name] = content;
        return $"{BaseUrl}/models/{name}";
    }

    /// <summary>The next requests are answered with these statuses (empty body), one each, before files are served again.</summary>
    public void AnswerNext(params HttpStatusCode[] answers)
    {
        foreach (var status in answers)
            statuses.Enqueue(status);
    }

    /// <summary>
    /// The next <paramref name="count"/> file responses stop after <see cref="CutAfterBytes"/> body bytes: the connection is
    /// closed, or with <paramref name="stall"/> kept open and silent until the client gives up.
    /// </summary>
    public void CutNext(int count, bool stall = false)
    {
        stallCutResponses = stall;
        responsesToCut = count;
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
        accepting.Wait(TimeSpan.FromSeconds(5));
        stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient connection;
            try
            {
                connection = await listener.AcceptTcpClientAsync(stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(connection));
        }
    }

    private async Task ServeAsync(TcpClient connection)
    {
        using var _ = connection;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            var stream = connection.GetStream();
            string[] head = (await ReadHeadAsync(stream, timeout.Token)).Split("\r\n");
            string path = head[0].Split(' ')[1];
            string? range = head.Skip(1).FirstOrDefault(h => h.StartsWith("Range:", StringComparison.OrdinalIgnoreCase))?[6..].Trim();
            Requests.Enqueue((path, range));
            if (statuses.TryDequeue(out var status) || !Files.TryGetValue(path, out byte[]? file))
            {
                await WriteAsync(stream, Head(status == 0 ? HttpStatusCode.NotFound : status, 0), timeout.Token);
                return;
            }
            long from = range is not null && SupportsRange ? long.Parse(range["bytes=".Length..].TrimEnd('-')) : 0;
            if (from >= file.Length && from > 0)
            {
                await WriteAsync(stream, Head(HttpStatusCode.RequestedRangeNotSatisfiable, 0, $"Content-Range: bytes */{file.Length}\r\n"), timeout.Token);
                return;
            }
            string responseHead = from > 0
                ? Head(HttpStatusCode.PartialContent, file.Length - from, $"Content-Range: bytes {from}-{file.Length - 1}/{file.Length}\r\n")
                : Head(HttpStatusCode.OK, file.Length);
            int length = file.Length - (int)from;
            bool cut = Interlocked.Decrement(ref responsesToCut) >= 0;
            if (cut)
                length = Math.Min(length, CutAfterBytes);
            await WriteAsync(stream, responseHead, timeout.Token);
            await stream.WriteAsync(file.AsMemory((int)from, length), timeout.Token);
            if (cut && stallCutResponses)
                await Task.Delay(Timeout.Infinite, timeout.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException)
        {
            // The client went away or the test ended: nothing to answer.
        }
    }

    private string Head(HttpStatusCode status, long contentLength, string extra = "") =>
        $"HTTP/1.1 {(int)status} {status}\r\nContent-Length: {contentLength}\r\n{(SupportsRange ? "Accept-Ranges: bytes\r\n" : "")}" +
        $"{extra}Connection: close\r\n\r\n";

    private static Task WriteAsync(NetworkStream stream, string text, CancellationToken token) =>
        stream.WriteAsync(Encoding.ASCII.GetBytes(text), token).AsTask();

    private static async Task<string> ReadHeadAsync(NetworkStream stream, CancellationToken token)
    {
        var head = new StringBuilder();
        byte[] one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one, token) == 0)
                throw new IOException("connection closed before the request head ended");
            head.Append((char)one[0]);
        }
        return head.ToString().TrimEnd();
    }
}
