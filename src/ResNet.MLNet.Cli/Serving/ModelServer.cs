using System.Text.Json;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ResNet.MLNet.Cli.Commands;
using ResNet.MLNet.Data;
using ResNet.MLNet.Models;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Cli.Serving;

/// <summary>Settings of <c>resnet-mlnet serve</c>.</summary>
/// <param name="ModelPath">model.zip (from finetune, or a classifier pipeline saved from the API).</param>
/// <param name="Host">Address to listen on. Default 127.0.0.1 (this machine only).</param>
/// <param name="Port">TCP port; 0 picks a free one.</param>
/// <param name="MaxBodyBytes">Largest request body accepted (413 beyond).</param>
/// <param name="MaxConcurrent">Requests scored at once.</param>
/// <param name="MaxQueued">Requests waiting for a slot (503 beyond).</param>
/// <param name="Timeout">Longest a prediction request may take (504 beyond).</param>
/// <param name="Limits">Image limits checked on every upload's header before decoding.</param>
internal sealed record ServeOptions(string ModelPath, string Host = "127.0.0.1", int Port = 5000, long MaxBodyBytes = 20 << 20,
    int MaxConcurrent = 4, int MaxQueued = 32, TimeSpan? Timeout = null, ImageLimits? Limits = null);

/// <summary>
/// The HTTP server of <c>resnet-mlnet serve</c> (ASP.NET Core minimal API): <c>POST /predict</c> scores an uploaded image
/// with the saved ML.NET model, with a Grad-CAM heatmap on request when the run's weights are next to it;
/// <c>GET /health</c>, <c>GET /metadata</c>, and a self-contained page at <c>GET /</c>.
/// </summary>
internal sealed class ModelServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly SavedModelPrediction model;
    private readonly Explainer? explainer;

    private ModelServer(WebApplication app, SavedModelPrediction model, Explainer? explainer)
    {
        this.app = app;
        this.model = model;
        this.explainer = explainer;
    }

    /// <summary>The address the server listens on (with the port chosen when <see cref="ServeOptions.Port"/> is 0).</summary>
    public string Url => app.Urls.First();

    /// <summary>Loads the model (and the weights for explanations when present) and starts listening.</summary>
    /// <exception cref="IOException">The port is in use (named).</exception>
    public static async Task<ModelServer> StartAsync(ServeOptions options, TextWriter log)
    {
        var limits = options.Limits ?? ImageLimits.Default;
        var model = new SavedModelPrediction(options.ModelPath);
        Explainer? explainer = null;
        try
        {
            explainer = Explainer.Find(options.ModelPath, log);
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(k => k.Limits.MaxRequestBodySize = options.MaxBodyBytes);
            builder.WebHost.UseUrls($"http://{options.Host}:{options.Port}");
            builder.Services.AddRateLimiter(r =>
            {
                r.RejectionStatusCode = StatusCodes.Status503ServiceUnavailable;
                r.AddConcurrencyLimiter("predict", c =>
                {
                    c.PermitLimit = options.MaxConcurrent;
                    c.QueueLimit = options.MaxQueued;
                    c.QueueProcessingOrder = QueueProcessingOrder.OldestFirst;
                });
            });
            builder.Services.AddRequestTimeouts(t => t.AddPolicy("predict", options.Timeout ?? TimeSpan.FromSeconds(30)));
            var app = builder.Build();
            app.UseRateLimiter();
            app.UseRequestTimeouts();
            var server = new ModelServer(app, model, explainer);
            server.Map(limits);
            try
            {
                await app.StartAsync();
            }
            catch (IOException e)
            {
                await app.DisposeAsync();
                throw new IOException($"Cannot listen on http://{options.Host}:{options.Port}: {UserMessages.Of(e)} Choose another --port.", e);
            }
            return server;
        }
        catch
        {
            model.Dispose();
            explainer?.Dispose();
            throw;
        }
    }

    /// <summary>Serves until <paramref name="stop"/> is cancelled.</summary>
    public Task WaitAsync(CancellationToken stop) => Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions.WaitForShutdownAsync(app, stop);

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        model.Dispose();
        explainer?.Dispose();
    }

    private void Map(ImageLimits limits)
    {
        app.MapGet("/health", () => Results.Json(new { status = "ok" }));
        app.MapGet("/metadata", () => Results.Json(new
        {
            model = Path.GetFileName(model.ModelPath),
            architecture = explainer?.Architecture,
            classes = explainer?.Input.ClassNames,
            input_size = explainer?.Input.ImageSize,
            weights = explainer?.WeightsPath is { } w ? Path.GetFileName(w) : null,
            explanations = explainer is not null,
        }, CliOutput.Json));
        app.MapGet("/", () => Results.Content(Page, "text/html; charset=utf-8"));
        app.MapPost("/predict", (HttpRequest request, CancellationToken cancel) => PredictAsync(request, limits, cancel))
            .RequireRateLimiting("predict").WithRequestTimeout("predict").DisableAntiforgery();
    }

    private async Task<IResult> PredictAsync(HttpRequest request, ImageLimits limits, CancellationToken cancel)
    {
        string file = Path.Combine(Path.GetTempPath(), $"resnet-mlnet-serve-{Guid.NewGuid():N}.img");
        try
        {
            int top = int.TryParse(request.Query["top"], out int t) ? t : 5;
            if (top < 1)
                return Error(StatusCodes.Status400BadRequest, $"top must be at least 1; got {top}.");
            bool explain = bool.TryParse(request.Query["explain"], out bool e) && e;
            await using (var target = File.Create(file))
            {
                if (request.ContentType?.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase) == true)
                {
                    var form = await request.ReadFormAsync(cancel);
                    if (form.Files.Count == 0)
                        return Error(StatusCodes.Status400BadRequest, "The form holds no file: send the image as a file field, or as the raw request body.");
                    await form.Files[0].CopyToAsync(target, cancel);
                }
                else
                {
                    await request.Body.CopyToAsync(target, cancel);
                }
            }
            if (new FileInfo(file).Length == 0)
                return Error(StatusCodes.Status400BadRequest, "The request holds no image: send its bytes as the body, or as a multipart file field.");
            cancel.ThrowIfCancellationRequested();
            var prediction = model.Predict(file, top, limits);
            object? heatmap = null;
            string? unavailable = null;
            if (explain)
            {
                if (explainer is null)
                    unavailable = "explanations need the run's weights.safetensors next to the model; predictions work without them.";
                else
                    heatmap = explainer.HeatmapPng(file, limits, prediction.PredictedLabel);
            }
            return Results.Json(new
            {
                label = prediction.PredictedLabel,
                probabilities = prediction.Top.Select(r => new { label = r.Label, index = r.Index, probability = r.Value }),
                scores = prediction.Scores,
                heatmap_png = heatmap,
                explanation_unavailable = unavailable,
            }, CliOutput.Json);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Error(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than the server's limit ({e.Message}).");
        }
        catch (OperationCanceledException)
        {
            return Error(StatusCodes.Status504GatewayTimeout, "The prediction took longer than the server's request timeout.");
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or ArgumentException)
        {
            // Name the upload, not the temporary file it was written to.
            return Error(StatusCodes.Status400BadRequest, UserMessages.Of(e).Replace(file, "the uploaded image", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static IResult Error(int status, string message) => Results.Json(new { error = message }, statusCode: status);

    private static readonly string Page = LoadPage();

    private static string LoadPage()
    {
        using var stream = typeof(ModelServer).Assembly.GetManifestResourceStream("ResNet.MLNet.Cli.Serving.index.html")
            ?? throw new InvalidOperationException("The serve page is not embedded in the tool.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>The run's network (weights.safetensors next to the model), for Grad-CAM; one explanation at a time.</summary>
    private sealed class Explainer : IDisposable
    {
        private readonly NetworkSetup setup;
        private readonly Lock gate = new();

        private Explainer(NetworkSetup setup, string weightsPath)
        {
            this.setup = setup;
            WeightsPath = weightsPath;
        }

        public string WeightsPath { get; }

        public string Architecture => setup.Model.Options.Name;

        public ImageModelInput Input => setup.Input;

        public static Explainer? Find(string modelPath, TextWriter log)
        {
            string weights = ZooModels.RunWeights(modelPath);
            if (!File.Exists(weights))
            {
                log.WriteLine($"note: no weights.safetensors next to the model: predictions only, no explanations.");
                return null;
            }
            return new Explainer(ZooModels.Build(null, weights, numClasses: null, WeightsLoadOptions.Exact, log), weights);
        }

        /// <summary>The crop beside its Grad-CAM overlay for the predicted class, as base64 PNG.</summary>
        public string HeatmapPng(string imagePath, ImageLimits limits, string predictedLabel)
        {
            var decoded = ImageTensor.Load(imagePath, limits);
            lock (gate) // TorchSharp modules are not safe for concurrent forward/backward passes
                return Convert.ToBase64String(ExplanationImage.Png(setup.Model, Input, decoded, ZooModels.ClassIndex(Input, predictedLabel)));
        }

        public void Dispose() => setup.Model.Dispose();
    }
}
