using System.Net;
using System.Security.Cryptography;
using ResNet.MLNet.Tests.TestSupport;
using ResNet.MLNet.Weights;
using Xunit.Abstractions;

namespace ResNet.MLNet.Tests.Weights.Download;

/// <summary>
/// Downloads from a server on 127.0.0.1 into a temporary cache folder. TORCH_HOME points into the temporary folder too and the
/// mirror and offline variables are cleared, so neither the real torch cache nor the developer's environment is involved.
/// </summary>
public sealed class WeightsDownloaderTests : IDisposable
{
    private readonly TempDirectory temp = new();
    private readonly LoopbackHttpServer server = new();
    private readonly EnvironmentScope environment;
    private readonly string cache;
    private readonly byte[] content = RandomBytes(300_000, seed: 1);
    private readonly string name;
    private readonly ITestOutputHelper output;

    public WeightsDownloaderTests(ITestOutputHelper output)
    {
        this.output = output;
        environment = new EnvironmentScope(
            (WeightsCache.TorchHomeVariable, temp.File("torch-home")),
            (WeightsDownloader.MirrorVariable, null),
            (WeightsDownloader.OfflineVariable, null));
        cache = temp.File("checkpoints");
        name = $"resnet-{Sha256(content)[..8]}.pth"; // torchvision's naming: the hash prefix is checked
    }

    private WeightsDownloadOptions Options => new()
    {
        CacheDirectory = cache,
        RetryDelay = TimeSpan.FromMilliseconds(10),
        Timeout = TimeSpan.FromSeconds(5),
    };

    private string Target => Path.Combine(cache, name);

    public void Dispose()
    {
        environment.Dispose();
        server.Dispose();
        temp.Dispose();
    }

    [Fact]
    public async Task Should_download_check_the_hash_and_give_the_file_its_name_only_when_complete()
    {
        var progress = new Reports(() => File.Exists(Target));

        string path = await new WeightsDownloader().DownloadAsync(server.Serve(name, content), Options with { Progress = progress });

        Assert.Equal(Target, path);
        Assert.Equal(content, File.ReadAllBytes(path));
        Assert.Equal([name], Directory.GetFiles(cache).Select(Path.GetFileName));
        Assert.All(progress.Seen, r => Assert.False(r.TargetExisted, $"{name} was in the cache at {r.Progress.BytesReceived} bytes"));
        Assert.Equal(new WeightsDownloadProgress(content.Length, content.Length), progress.Seen[^1].Progress);
        Assert.True(progress.Seen.Zip(progress.Seen.Skip(1)).All(p => p.First.Progress.BytesReceived <= p.Second.Progress.BytesReceived));
    }

    [Fact]
    public async Task Should_refuse_a_file_whose_hash_differs_from_the_prefix_in_its_name_and_leave_nothing_in_the_cache()
    {
        const string wrongName = "resnet-deadbeef.pth";
        Assert.False(Sha256(content).StartsWith("deadbeef", StringComparison.Ordinal));
        string url = server.Serve(wrongName, content);

        var error = await Assert.ThrowsAsync<WeightsHashMismatchException>(() => new WeightsDownloader().DownloadAsync(url, Options));
        output.WriteLine(error.Message);

        Assert.Contains(url, error.Message);
        Assert.Contains("deadbeef", error.Message);
        Assert.Contains(Sha256(content), error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(cache));
        Assert.Single(server.Requests); // a wrong file is not a transient failure
    }

    [Fact]
    public async Task Should_check_a_full_sha256_given_in_the_options()
    {
        string url = server.Serve("plain.pth", content);
        string other = Sha256(RandomBytes(10, seed: 2));

        var error = await Assert.ThrowsAsync<WeightsHashMismatchException>(
            () => new WeightsDownloader().DownloadAsync(url, Options with { Sha256 = other }));
        output.WriteLine(error.Message);
        Assert.Equal((other, Sha256(content)), (error.ExpectedSha256, error.ActualSha256));
        Assert.Empty(Directory.GetFileSystemEntries(cache));

        string path = await new WeightsDownloader().DownloadAsync(url, Options with { Sha256 = Sha256(content).ToUpperInvariant() });
        Assert.Equal(content, File.ReadAllBytes(path));
    }

    [Fact]
    public async Task Should_resume_with_a_range_request_when_the_connection_drops_half_way()
    {
        server.CutAfterBytes = 100_000;
        server.CutNext(1);

        string path = await new WeightsDownloader().DownloadAsync(server.Serve(name, content), Options);

        Assert.Equal(content, File.ReadAllBytes(path));
        Assert.Equal([null, "bytes=100000-"], server.Requests.Select(r => r.Range));
        Assert.False(File.Exists(Target + ".partial"));
    }

    [Fact]
    public async Task Should_start_over_when_the_server_ignores_the_range()
    {
        server.SupportsRange = false;
        server.CutAfterBytes = 100_000;
        server.CutNext(1);

        string path = await new WeightsDownloader().DownloadAsync(server.Serve(name, content), Options);

        Assert.Equal(content, File.ReadAllBytes(path)); // the 200 body replaced the partial file, it was not appended
        Assert.Equal([null, "bytes=100000-"], server.Requests.Select(r => r.Range));
    }

    [Fact]
    public async Task Should_give_up_on_a_silent_server_after_the_timeout_and_resume()
    {
        server.CutAfterBytes = 100_000;
        server.CutNext(1, stall: true);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        string path = await new WeightsDownloader().DownloadAsync(
            server.Serve(name, content), Options with { Timeout = TimeSpan.FromMilliseconds(300) });

        Assert.Equal(content, File.ReadAllBytes(path));
        Assert.Equal([null, "bytes=100000-"], server.Requests.Select(r => r.Range));
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Should_keep_the_partial_file_when_the_attempts_run_out_and_resume_from_it_in_a_later_download()
    {
        string url = server.Serve(name, content);
        server.CutAfterBytes = 100_000;
        server.CutNext(2);

        var error = await Assert.ThrowsAsync<WeightsDownloadException>(
            () => new WeightsDownloader().DownloadAsync(url, Options with { MaxAttempts = 2 }));
        output.WriteLine(error.Message);

        Assert.Contains(url, error.Message);
        Assert.Contains($"200000 bytes received are kept in {Target}.partial", error.Message);
        Assert.Equal(200_000, new FileInfo(Target + ".partial").Length);
        Assert.False(File.Exists(Target));

        string path = await new WeightsDownloader().DownloadAsync(url, Options);
        Assert.Equal(content, File.ReadAllBytes(path));
        Assert.Equal([null, "bytes=100000-", "bytes=200000-"], server.Requests.Select(r => r.Range));
        Assert.Equal([name], Directory.GetFiles(cache).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Should_start_over_once_when_a_partial_file_left_by_an_earlier_download_fails_the_hash()
    {
        Directory.CreateDirectory(cache);
        File.WriteAllBytes(Target + ".partial", RandomBytes(100_000, seed: 3)); // from another version of the file

        string path = await new WeightsDownloader().DownloadAsync(server.Serve(name, content), Options);

        Assert.Equal(content, File.ReadAllBytes(path));
        Assert.Equal(["bytes=100000-", null], server.Requests.Select(r => r.Range));
        Assert.Equal([name], Directory.GetFiles(cache).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Should_start_over_when_a_partial_file_is_longer_than_the_file()
    {
        Directory.CreateDirectory(cache);
        File.WriteAllBytes(Target + ".partial", RandomBytes(content.Length + 10, seed: 3));

        string path = await new WeightsDownloader().DownloadAsync(server.Serve(name, content), Options with { MaxAttempts = 1 });

        Assert.Equal(content, File.ReadAllBytes(path));
        Assert.Equal([$"bytes={content.Length + 10}-", null], server.Requests.Select(r => r.Range)); // 416, then the whole file
    }

    [Fact]
    public async Task Should_download_into_torch_hubs_folder_when_no_folder_is_given()
    {
        string torchHome = temp.File("torch-home");
        Assert.Equal(torchHome, Environment.GetEnvironmentVariable(WeightsCache.TorchHomeVariable));

        string path = await new WeightsDownloader().DownloadAsync(server.Serve(name, content), Options with { CacheDirectory = null });

        Assert.Equal(Path.Combine(torchHome, "hub", "checkpoints", name), path);
        Assert.Equal(content, File.ReadAllBytes(path));
    }

    [Fact]
    public void Should_retry_server_errors_and_rate_limits_then_succeed_synchronously()
    {
        server.AnswerNext(HttpStatusCode.ServiceUnavailable, HttpStatusCode.TooManyRequests);

        string path = new WeightsDownloader().Download(server.Serve(name, content), Options);

        Assert.Equal(content, File.ReadAllBytes(path));
        Assert.Equal(3, server.Requests.Count);
    }

    [Theory]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.Forbidden)]
    public async Task Should_fail_at_once_on_a_client_error_naming_the_status_and_the_url(HttpStatusCode status)
    {
        string url = server.Serve(name, content);
        server.AnswerNext(status);

        var error = await Assert.ThrowsAsync<WeightsDownloadException>(() => new WeightsDownloader().DownloadAsync(url, Options));
        output.WriteLine(error.Message);

        Assert.Equal(status, error.StatusCode);
        Assert.Contains($"HTTP {(int)status}", error.Message);
        Assert.Contains(url, error.Message);
        Assert.Single(server.Requests);
        Assert.Empty(Directory.GetFileSystemEntries(cache));
    }

    [Fact]
    public async Task Should_fail_naming_the_url_when_no_server_answers_and_leave_the_cache_empty()
    {
        var closed = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        int port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        string url = $"http://127.0.0.1:{port}/models/{name}";

        var error = await Assert.ThrowsAsync<WeightsDownloadException>(
            () => new WeightsDownloader().DownloadAsync(url, Options with { MaxAttempts = 2 }));
        output.WriteLine(error.Message);

        Assert.Contains($"Downloading {url} failed after 2 attempt(s)", error.Message);
        Assert.Contains("nothing was added to the cache", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(cache));
    }

    [Fact]
    public async Task Should_refuse_the_network_offline_naming_the_file_the_folder_and_the_url()
    {
        environment.Set(WeightsDownloader.OfflineVariable, "1");
        string url = server.Serve(name, content);

        var error = await Assert.ThrowsAsync<WeightsDownloadException>(() => new WeightsDownloader().DownloadAsync(url, Options));
        output.WriteLine(error.Message);

        Assert.Contains(WeightsDownloader.OfflineVariable, error.Message);
        Assert.Contains($"place it in {cache} (as {Target})", error.Message);
        Assert.Contains($"download it from {url}", error.Message);
        Assert.Empty(server.Requests);
        Assert.False(Directory.Exists(cache));
    }

    [Fact]
    public async Task Should_use_a_cached_file_as_it_is_without_any_request_even_offline()
    {
        Directory.CreateDirectory(cache);
        File.WriteAllText(Target, "not the weights"); // torch hub does not re-hash cached files, neither does this
        string url = server.Serve(name, content);

        Assert.Equal(Target, await new WeightsDownloader().DownloadAsync(url, Options));
        environment.Set(WeightsDownloader.OfflineVariable, "1");
        Assert.Equal(Target, await new WeightsDownloader().DownloadAsync(url, Options));

        Assert.Equal("not the weights", File.ReadAllText(Target));
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task Should_download_from_the_mirror_when_one_is_set()
    {
        server.Files["/mirror/" + name] = content;
        environment.Set(WeightsDownloader.MirrorVariable, server.BaseUrl + "/mirror/");

        string path = await new WeightsDownloader().DownloadAsync($"https://download.pytorch.invalid/models/{name}", Options);

        Assert.Equal(content, File.ReadAllBytes(path));
        Assert.Equal(["/mirror/" + name], server.Requests.Select(r => r.Path));
    }

    [Theory]
    [InlineData("ftp://mirror.example/models")]
    [InlineData("mirror.example/models")]
    [InlineData("https://mirror.example/models?token=1")]
    public async Task Should_refuse_an_invalid_mirror_naming_the_variable_and_its_value(string mirror)
    {
        environment.Set(WeightsDownloader.MirrorVariable, mirror);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => new WeightsDownloader().DownloadAsync(server.Serve(name, content), Options));
        output.WriteLine(error.Message);

        Assert.Contains($"{WeightsDownloader.MirrorVariable}='{mirror}'", error.Message);
        Assert.Empty(server.Requests);
        Assert.False(Directory.Exists(cache));
    }

    [Fact]
    public async Task Should_name_the_cache_folder_when_it_cannot_be_created()
    {
        string occupied = temp.File("occupied");
        File.WriteAllText(occupied, "a file, not a folder");
        string folder = Path.Combine(occupied, "checkpoints");

        var error = await Assert.ThrowsAsync<WeightsDownloadException>(
            () => new WeightsDownloader().DownloadAsync(server.Serve(name, content), Options with { CacheDirectory = folder }));
        output.WriteLine(error.Message);

        Assert.Equal($"Cannot create the weights cache folder {folder}: {occupied} is a file, not a folder.", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal("a file, not a folder", File.ReadAllText(occupied));
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task Should_stop_when_cancelled_and_keep_the_partial_file_for_a_later_resume()
    {
        string url = server.Serve(name, content);
        using var cancel = new CancellationTokenSource();
        var progress = new Reports(() => false, p => { if (p.BytesReceived >= 50_000) cancel.Cancel(); });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => new WeightsDownloader().DownloadAsync(url, Options with { Progress = progress }, cancel.Token));

        long kept = new FileInfo(Target + ".partial").Length;
        Assert.InRange(kept, 50_000, content.Length - 1);
        Assert.False(File.Exists(Target));
        Assert.Equal(content, File.ReadAllBytes(await new WeightsDownloader().DownloadAsync(url, Options)));
        Assert.Equal($"bytes={kept}-", server.Requests.Last().Range);
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>Progress reports as they arrive (synchronously, unlike <see cref="Progress{T}"/>), each with a check made at that moment.</summary>
    private sealed class Reports(Func<bool> check, Action<WeightsDownloadProgress>? then = null) : IProgress<WeightsDownloadProgress>
    {
        public List<(WeightsDownloadProgress Progress, bool TargetExisted)> Seen { get; } = [];

        public void Report(WeightsDownloadProgress value)
        {
            Seen.Add((value, check()));
            then?.Invoke(value);
        }
    }
}
