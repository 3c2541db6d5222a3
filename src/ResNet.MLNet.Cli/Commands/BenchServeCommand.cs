using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ResNet.MLNet.Cli.Serving;
using ResNet.MLNet.Data;

namespace ResNet.MLNet.Cli.Commands;

/// <summary>
/// <c>resnet-mlnet bench serve</c>: requests per second and latency of <c>serve</c> at several numbers of concurrent
/// clients, against the same model scored directly in the process (no HTTP) measured in the same run.
/// </summary>
internal static class BenchServeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "model.zip to serve.", Required = true };
        var images = new Option<string>("--images") { Description = "Folder of images sent in turn (searched recursively).", DefaultValueFactory = _ => "data/fashion-mnist/test" };
        var requests = new Option<int>("--requests") { Description = "Timed requests per concurrency level.", DefaultValueFactory = _ => 200 };
        var clients = new Option<string>("--clients") { Description = "Concurrency levels, comma-separated.", DefaultValueFactory = _ => "1,4,16" };
        var json = new Option<bool>("--json") { Description = "Print the figures as JSON." };
        var command = new Command("serve", "Requests/s and p50/p95 latency of 'serve' at 1, 4 and 16 concurrent clients, vs scoring in-process.")
        {
            model, images, requests, clients, json,
        };
        command.SetAction(parse => CliOutput.Guard(parse, () =>
        {
            int n = parse.GetValue(requests);
            if (n < 1)
                return CliOutput.Fail(parse, $"--requests must be at least 1; got {n}.");
            var levels = parse.GetValue(clients)!.Split(',', StringSplitOptions.TrimEntries).Select(c =>
                int.TryParse(c, CultureInfo.InvariantCulture, out int v) && v >= 1 ? v : throw new ArgumentException($"--clients must be positive integers; got '{c}'.")).ToArray();
            string folder = parse.GetValue(images)!;
            if (!Directory.Exists(folder))
                return CliOutput.Fail(parse, $"Image folder '{Path.GetFullPath(folder)}' does not exist.");
            var files = Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
            if (files.Length == 0)
                return CliOutput.Fail(parse, $"Image folder '{Path.GetFullPath(folder)}' holds no files.");
            var bodies = files.Select(File.ReadAllBytes).ToArray();
            string modelPath = parse.GetValue(model)!;

            // The peer: the same model scored in this process, one image after another, no HTTP.
            double direct;
            using (var saved = new SavedModelPrediction(modelPath))
            {
                for (int i = 0; i < 10; i++)
                    saved.Predict(files[i % files.Length], 5, ImageLimits.Default);
                direct = Throughput.Measure(n, () =>
                {
                    for (int i = 0; i < n; i++)
                        saved.Predict(files[i % files.Length], 5, ImageLimits.Default);
                });
            }

            var rows = new List<(int Clients, double PerSecond, double P50, double P95)>();
            var server = ModelServer.StartAsync(new ServeOptions(modelPath, Port: 0, MaxConcurrent: Environment.ProcessorCount, MaxQueued: 1024), TextWriter.Null)
                .GetAwaiter().GetResult();
            try
            {
                using var client = new HttpClient { BaseAddress = new Uri(server.Url) };
                foreach (int level in levels)
                {
                    Run(client, bodies, Math.Min(20, n), level); // warm-up
                    var clock = Stopwatch.StartNew();
                    var latencies = Run(client, bodies, n, level);
                    double seconds = clock.Elapsed.TotalSeconds;
                    latencies.Sort();
                    rows.Add((level, n / seconds, Percentile(latencies, 0.50), Percentile(latencies, 0.95)));
                }
            }
            finally
            {
                server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(new
                {
                    model = Path.GetFullPath(modelPath), requests = n, direct_per_second = direct,
                    levels = rows.Select(r => new { clients = r.Clients, requests_per_second = r.PerSecond, p50_ms = r.P50, p95_ms = r.P95, ratio_to_direct = r.PerSecond / direct }),
                }, CliOutput.Json));
                return 0;
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(modelPath)}: {n} requests per level, {Environment.ProcessorCount} cores"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  in-process scoring (peer, no HTTP, 1 thread): {direct:F1} images/s"));
            foreach (var r in rows)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  serve, {r.Clients,2} client(s): {r.PerSecond:F1} requests/s ({r.PerSecond / direct:F2}x in-process), p50 {r.P50:F1} ms, p95 {r.P95:F1} ms"));
            return 0;
        }));
        return command;
    }

    /// <summary>Sends <paramref name="count"/> POST /predict requests from <paramref name="clients"/> concurrent loops; returns each latency in ms.</summary>
    private static List<double> Run(HttpClient client, byte[][] bodies, int count, int clients)
    {
        int next = -1;
        var latencies = new List<double>(count);
        var tasks = Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var watch = Stopwatch.StartNew();
                using var response = await client.PostAsync("/predict", new ByteArrayContent(bodies[i % bodies.Length]));
                response.EnsureSuccessStatusCode();
                await response.Content.ReadAsByteArrayAsync();
                lock (latencies)
                    latencies.Add(watch.Elapsed.TotalMilliseconds);
            }
        })).ToArray();
        Task.WaitAll(tasks);
        return latencies;
    }

    private static double Percentile(List<double> sorted, double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
}
