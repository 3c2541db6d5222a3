using System.Security.Cryptography;

namespace ResNet.MLNet.Weights;

/// <summary>
/// The <c>name.partial</c> file a download writes in the cache folder, and the SHA-256 of what it holds, updated as bytes
/// arrive so a finished file is never read again. It is opened only once the server answers with the file, so a refused
/// request leaves no trace, and it is locked (no sharing) while open. Disk failures become
/// <see cref="WeightsDownloadException"/> naming the file, which the retry loop does not retry.
/// </summary>
internal sealed class PartialDownload(string target, string url) : IDisposable
{
    private FileStream? stream;
    private IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long written;

    public string Path { get; } = target + ".partial";

    /// <summary>The path the completed file takes in the cache.</summary>
    public string Target => target;

    /// <summary>Bytes held: counted while open, else the size of a file left by an earlier download (0 when there is none).</summary>
    public long Length => stream is not null ? written : new FileInfo(Path) is { Exists: true } info ? info.Length : 0;

    /// <summary>Continues the file: opens it and hashes what an earlier download left, unless it is open already.</summary>
    public void Resume()
    {
        if (stream is not null)
            return;
        OnDisk(() =>
        {
            stream = Open();
            byte[] buffer = new byte[1 << 16];
            for (int read; (read = stream.Read(buffer)) > 0; written += read)
                hash.AppendData(buffer, 0, read);
        });
    }

    /// <summary>Starts the file over, empty.</summary>
    public void Restart() => OnDisk(() =>
    {
        stream ??= Open();
        stream.SetLength(0);
        written = 0;
        hash.Dispose();
        hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    });

    /// <summary>Appends bytes received and hashes them.</summary>
    public async ValueTask AppendAsync(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            await stream!.WriteAsync(bytes).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CannotWrite(e);
        }
        hash.AppendData(bytes.Span);
        written += bytes.Length;
    }

    /// <summary>Flushes the whole file to disk, closes it and returns its SHA-256 as lower-case hex.</summary>
    public string Complete()
    {
        OnDisk(() =>
        {
            stream ??= Open();
            stream.Flush(flushToDisk: true);
        });
        Close();
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Moves the completed file to <paramref name="destination"/> in one rename (same folder), replacing any file there.</summary>
    public void MoveTo(string destination) => OnDisk(() => File.Move(Path, destination, overwrite: true));

    /// <summary>Removes the file.</summary>
    public void Delete()
    {
        Close();
        OnDisk(() => File.Delete(Path));
    }

    /// <summary>Closes the file, keeping it for a later resume unless it is empty.</summary>
    public void Dispose()
    {
        bool empty = stream is not null && written == 0;
        Close();
        if (empty)
        {
            try
            {
                File.Delete(Path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // An empty leftover is harmless (the next download starts it over); the error that ended this one matters more.
            }
        }
        hash.Dispose();
    }

    private FileStream Open() => new(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);

    private void Close()
    {
        stream?.Dispose();
        stream = null;
    }

    private void OnDisk(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CannotWrite(e);
        }
    }

    private WeightsDownloadException CannotWrite(Exception e) => new(
        $"Cannot write {Path} in the weights cache folder {System.IO.Path.GetDirectoryName(Path)}: {UserMessages.Of(e)}", url, target, innerException: e);
}
