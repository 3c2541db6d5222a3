using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML.Data;
using ResNet.MLNet.Data;
using ResNet.MLNet.Models;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Cli.Commands;

/// <summary>
/// <c>resnet-mlnet bench soak</c>: thousands of randomized hostile files — truncations and byte flips of real weight
/// files (torch.save zip, safetensors, ONNX, TorchSharp) and images (PNG, JPEG) — each read the way the toolkit reads
/// untrusted input, counted by outcome. A file must either read or be refused with <see cref="InvalidDataException"/>
/// (or <see cref="UnsafePickleException"/>) naming it, within the time limit; any other exception, a refusal that does
/// not name the file, or a time-out is a finding. A soak, not a test: it reports, and exits 1 when it found something.
/// </summary>
internal static class BenchSoakCommand
{
    public static Command Create()
    {
        var cases = new Option<int>("--cases") { Description = "Randomized files to try.", DefaultValueFactory = _ => 2000 };
        var seed = new Option<int>("--seed") { Description = "Seed of the mutations (the same seed tries the same files).", DefaultValueFactory = _ => 1 };
        var timeout = new Option<double>("--timeout") { Description = "Seconds a single file may take before it counts as a hang.", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var command = new Command("soak", "Randomized truncations and byte flips of real weight files and images, read as untrusted input: counts by outcome.")
        {
            cases, seed, timeout, json,
        };
        command.SetAction(parse => CliOutput.Guard(parse, () =>
        {
            int count = parse.GetValue(cases);
            if (count < 1)
                return CliOutput.Fail(parse, $"--cases must be at least 1; got {count}.");
            using var dir = new TemporaryFolder();
            var seeds = SeedFiles(dir.Path);
            var random = new Random(parse.GetValue(seed));
            var limit = TimeSpan.FromSeconds(parse.GetValue(timeout));
            var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
            var findings = new List<string>();
            var clock = Stopwatch.StartNew();
            double slowest = 0;
            for (int i = 0; i < count; i++)
            {
                var (source, read) = seeds[random.Next(seeds.Count)];
                byte[] bytes = File.ReadAllBytes(source);
                string kind = random.Next(2) == 0 ? "truncated" : "flipped";
                byte[] mutated = kind == "truncated" ? bytes[..random.Next(bytes.Length)] : Flip(bytes, random);
                string path = Path.Combine(dir.Path, $"case{i}{Path.GetExtension(source)}");
                File.WriteAllBytes(path, mutated);
                var watch = Stopwatch.StartNew();
                string outcome = Outcome(path, read, limit);
                slowest = Math.Max(slowest, watch.Elapsed.TotalSeconds);
                string key = $"{Path.GetExtension(source)} {kind}: {outcome.Split(':')[0]}";
                outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
                if (outcome.StartsWith("FINDING", StringComparison.Ordinal))
                    findings.Add($"{Path.GetFileName(source)} {kind} (case {i}): {outcome}");
                File.Delete(path);
            }
            var report = new { cases = count, seconds = Math.Round(clock.Elapsed.TotalSeconds, 1), slowest_case_seconds = Math.Round(slowest, 3), outcomes, findings };
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(report, CliOutput.Json));
            }
            else
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{count} cases in {report.seconds} s (slowest {report.slowest_case_seconds} s):"));
                foreach (var (key, n) in outcomes)
                    output.WriteLine($"  {key,-40} {n,6}");
                foreach (string finding in findings.Take(20))
                    output.WriteLine($"  {finding}");
            }
            return findings.Count == 0 ? 0 : 1;
        }));
        return command;
    }

    /// <summary>Reads one file the way untrusted input is read; returns "read", "refused", or "FINDING: ..." with what went wrong.</summary>
    private static string Outcome(string path, Action<string> read, TimeSpan limit)
    {
        var task = Task.Run(() => read(path));
        if (Task.WhenAny(task, Task.Delay(limit)).GetAwaiter().GetResult() != task)
            return $"FINDING: no answer within {limit.TotalSeconds} s";
        if (task.Exception?.InnerException is not { } e)
            return "read";
        if (e is InvalidDataException or UnsafePickleException)
            return e.Message.Contains(path, StringComparison.Ordinal) ? "refused" : $"FINDING: refused without naming the file: {e.Message}";
        return $"FINDING: {e.GetType().Name}: {e.Message}";
    }

    private static byte[] Flip(byte[] bytes, Random random)
    {
        var copy = (byte[])bytes.Clone();
        int flips = 1 + random.Next(16);
        for (int f = 0; f < flips && copy.Length > 0; f++)
            copy[random.Next(copy.Length)] = (byte)random.Next(256);
        return copy;
    }

    /// <summary>Real files to mutate: a CIFAR ResNet-20 in four weight formats, and a PNG and a JPEG, with the reader of each.</summary>
    private static List<(string Path, Action<string> Read)> SeedFiles(string dir)
    {
        using var model = ResNetModels.CifarResNet(20);
        var tensors = NamedTensor.FromModel(model);
        void ReadWeights(string path) => _ = WeightsFile.Read(path).NumClasses;
        void ReadImage(string path) => _ = ImageTensor.Load(path);
        var files = new List<(string, Action<string>)>();
        foreach (string name in new[] { "weights.pth", "weights.safetensors", "weights.dat" })
        {
            string path = Path.Combine(dir, name);
            WeightsFile.Write(path, tensors);
            files.Add((path, ReadWeights));
        }
        string onnx = Path.Combine(dir, "resnet18.onnx");
        using (var imagenet = ResNetModels.ResNet18(numClasses: 10))
            Onnx.ResNetOnnx.Export(imagenet, onnx, new Onnx.OnnxExportOptions { Normalization = null, ImageHeight = 32, ImageWidth = 32 });
        files.Add((onnx, ReadWeights));
        var pixels = new byte[64 * 48 * 4];
        new Random(0).NextBytes(pixels);
        using var image = MLImage.CreateFromPixels(64, 48, MLPixelFormat.Bgra32, pixels);
        foreach (string name in new[] { "image.png", "image.jpg" })
        {
            string path = Path.Combine(dir, name);
            image.Save(path);
            files.Add((path, ReadImage));
        }
        return files;
    }

    private sealed class TemporaryFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateDirectory(System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"resnet-mlnet-soak-{Guid.NewGuid():N}")).FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
