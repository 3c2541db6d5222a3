using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using ResNet.MLNet.Cli.Commands;
using ResNet.MLNet.Cli.Serving;
using ResNet.MLNet.Data;
using ResNet.MLNet.Tests.Cli;
using ResNet.MLNet.Tests.TestSupport;

namespace ResNet.MLNet.Tests.Serving;

/// <summary>A small fine-tuned run (model.zip and weights.safetensors) shared by the server tests.</summary>
public sealed class ServedRun : IDisposable
{
    public ServedRun()
    {
        var (code, output, error) = CliRunner.Run("finetune", "--data", Repo.SampleData, "--arch", "cifar_resnet20", "--image-size", "28",
            "--epochs", "1", "--batch-size", "32", "--out", Folder);
        Assert.True(code == 0, error + output);
        Directory.CreateDirectory(ModelOnlyFolder);
        File.Copy(ModelPath, Path.Combine(ModelOnlyFolder, "model.zip"));
    }

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), $"serve-{Guid.NewGuid():N}");

    public string ModelPath => Path.Combine(Folder, "model.zip");

    /// <summary>The same model.zip without the weights beside it: predictions only.</summary>
    public string ModelOnlyFolder => Folder + "-model-only";

    public void Dispose()
    {
        foreach (string dir in new[] { Folder, ModelOnlyFolder })
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
    }
}

public class ModelServerTests(ServedRun run) : IClassFixture<ServedRun>
{
    private static readonly string[] Images = Directory.GetFiles(Path.Combine(Repo.SampleData, "test"), "*.png", SearchOption.AllDirectories).Order().Take(16).ToArray();

    private static async Task<(ModelServer Server, HttpClient Client)> Start(string model, long maxBody = 20 << 20)
    {
        var server = await ModelServer.StartAsync(new ServeOptions(model, Port: 0, MaxBodyBytes: maxBody), TextWriter.Null);
        return (server, new HttpClient { BaseAddress = new Uri(server.Url) });
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> Post(HttpClient client, string url, HttpContent content)
    {
        using var response = await client.PostAsync(url, content);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static ByteArrayContent Raw(string path) => new(File.ReadAllBytes(path));

    [Fact]
    public async Task Predictions_match_the_saved_model_scored_directly_raw_or_multipart()
    {
        var (server, client) = await Start(run.ModelPath);
        await using var _ = server;
        using var __ = client;
        using var direct = new SavedModelPrediction(run.ModelPath);
        foreach (string image in Images.Take(3))
        {
            var expected = direct.Predict(image, 5, ImageLimits.Default);
            var (status, body) = await Post(client, "/predict", Raw(image));
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(expected.PredictedLabel, body.GetProperty("label").GetString());
            var probabilities = body.GetProperty("probabilities").EnumerateArray().ToList();
            Assert.Equal(5, probabilities.Count);
            for (int i = 0; i < 5; i++)
            {
                Assert.Equal(expected.Top[i].Label, probabilities[i].GetProperty("label").GetString());
                Assert.Equal(expected.Top[i].Value, probabilities[i].GetProperty("probability").GetDouble(), 1e-6);
            }

            using var form = new MultipartFormDataContent { { Raw(image), "file", Path.GetFileName(image) } };
            var (formStatus, formBody) = await Post(client, "/predict?top=2", form);
            Assert.Equal(HttpStatusCode.OK, formStatus);
            Assert.Equal(expected.PredictedLabel, formBody.GetProperty("label").GetString());
            Assert.Equal(2, formBody.GetProperty("probabilities").GetArrayLength());
        }
    }

    [Fact]
    public async Task Sixteen_parallel_requests_answer_as_sequential_ones()
    {
        var (server, client) = await Start(run.ModelPath);
        await using var _ = server;
        using var __ = client;
        var sequential = new List<string>();
        foreach (string image in Images)
            sequential.Add((await Post(client, "/predict", Raw(image))).Body.GetRawText());
        var parallel = await Task.WhenAll(Images.Select(async image => (await Post(client, "/predict", Raw(image))).Body.GetRawText()));
        Assert.Equal(sequential, parallel);
    }

    [Fact]
    public async Task Explanations_come_from_the_weights_beside_the_model_and_are_optional()
    {
        var (server, client) = await Start(run.ModelPath);
        await using (server)
        using (client)
        {
            var (status, body) = await Post(client, "/predict?explain=true", Raw(Images[0]));
            Assert.Equal(HttpStatusCode.OK, status);
            byte[] png = Convert.FromBase64String(body.GetProperty("heatmap_png").GetString()!);
            using var picture = SkiaSharp.SKBitmap.Decode(png);
            Assert.True(picture.Width > picture.Height, "the crop beside its overlay");
            var metadata = JsonDocument.Parse(await client.GetStringAsync("/metadata")).RootElement;
            Assert.Equal("cifar_resnet20", metadata.GetProperty("architecture").GetString());
            Assert.Equal(10, metadata.GetProperty("classes").GetArrayLength());
            Assert.True(metadata.GetProperty("explanations").GetBoolean());
            Assert.Contains("<input id=\"file\"", await client.GetStringAsync("/"));
            Assert.Contains("ok", await client.GetStringAsync("/health"));
        }

        var (bare, bareClient) = await Start(Path.Combine(run.ModelOnlyFolder, "model.zip"));
        await using (bare)
        using (bareClient)
        {
            var (status, body) = await Post(bareClient, "/predict?explain=true", Raw(Images[0]));
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(JsonValueKind.Null, body.GetProperty("heatmap_png").ValueKind);
            Assert.Contains("weights.safetensors", body.GetProperty("explanation_unavailable").GetString());
            Assert.False(JsonDocument.Parse(await bareClient.GetStringAsync("/metadata")).RootElement.GetProperty("explanations").GetBoolean());
        }
    }

    [Fact]
    public async Task Bad_requests_get_a_json_error_and_the_server_keeps_serving()
    {
        var (server, client) = await Start(run.ModelPath, maxBody: 64 << 10);
        await using var _ = server;
        using var __ = client;
        using var dir = new TempDirectory();
        string truncated = Path.Combine(dir.Path, "cut.png");
        File.WriteAllBytes(truncated, File.ReadAllBytes(Images[0])[..80]);

        var cases = new (HttpContent Content, HttpStatusCode Status, string Says)[]
        {
            (new ByteArrayContent(new byte[100]), HttpStatusCode.BadRequest, "is not an image"),
            (Raw(truncated), HttpStatusCode.BadRequest, "truncated"),
            (new ByteArrayContent([]), HttpStatusCode.BadRequest, "holds no image"),
            (new ByteArrayContent(new byte[100 << 10]), HttpStatusCode.RequestEntityTooLarge, "larger than the server's limit"),
            (new MultipartFormDataContent { { new StringContent("x"), "note" } }, HttpStatusCode.BadRequest, "no file"),
        };
        foreach (var (content, status, says) in cases)
        {
            var (got, body) = await Post(client, "/predict", content);
            Assert.Equal(status, got);
            Assert.Contains(says, body.GetProperty("error").GetString());
            Assert.DoesNotContain(Path.GetTempPath(), body.GetProperty("error").GetString()); // the temporary file is not named
        }
        var (badTop, topBody) = await Post(client, "/predict?top=0", Raw(Images[0]));
        Assert.Equal(HttpStatusCode.BadRequest, badTop);
        Assert.Contains("top", topBody.GetProperty("error").GetString());
        var (ok, _) = await Post(client, "/predict", Raw(Images[0]));
        Assert.Equal(HttpStatusCode.OK, ok);
    }

    [Fact]
    public void Bench_serve_reports_each_client_count_against_in_process_scoring()
    {
        var (code, output, error) = CliRunner.Run("bench", "serve", "--model", run.ModelPath, "--images", Path.Combine(Repo.SampleData, "test", "bag"),
            "--requests", "6", "--clients", "1,3", "--json");
        Assert.True(code == 0, error);
        var figures = JsonDocument.Parse(output).RootElement;
        Assert.True(figures.GetProperty("direct_per_second").GetDouble() > 0);
        var levels = figures.GetProperty("levels").EnumerateArray().ToList();
        Assert.Equal([1, 3], levels.Select(l => l.GetProperty("clients").GetInt32()));
        Assert.All(levels, l => Assert.True(l.GetProperty("p95_ms").GetDouble() >= l.GetProperty("p50_ms").GetDouble() && l.GetProperty("requests_per_second").GetDouble() > 0));
    }

    [Fact]
    public async Task A_port_in_use_is_named()
    {
        var (server, client) = await Start(run.ModelPath);
        await using var _ = server;
        using var __ = client;
        int port = new Uri(server.Url).Port;
        var e = await Assert.ThrowsAsync<IOException>(() => ModelServer.StartAsync(new ServeOptions(run.ModelPath, Port: port), TextWriter.Null));
        Assert.Contains($":{port}", e.Message);
        Assert.Contains("--port", e.Message);
    }
}
