using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using ResNet.MLNet.Data;
using ResNet.MLNet.Models;
using ResNet.MLNet.Onnx;
using Spectre.Console;

namespace ResNet.MLNet.Cli.Commands;

/// <summary>
/// <c>resnet-mlnet bench featurize</c>: images per second of the ML.NET featurizer (from decoded images in memory, and
/// from image files on disk) against a bare ONNX Runtime session running the same exported network on ready-made input
/// tensors, all in one process, measured in interleaved rounds.
/// </summary>
internal static class BenchFeaturizeCommand
{
    public static Command Create()
    {
        var arch = new Option<string>("--arch") { Description = "Architecture (see summary --list).", Required = true };
        var batchSize = new Option<int>("--batch-size") { Description = "Images per batch, for the featurizer and ONNX Runtime alike.", DefaultValueFactory = _ => 32 };
        var imageSize = new Option<int?>("--image-size") { Description = "Side of the square network input (and of the generated images). Default 224 (32 for CIFAR nets)." };
        var images = new Option<int?>("--images") { Description = "Images per timed pass. Default 4 batches." };
        var rounds = new Option<int>("--rounds") { Description = "Timed passes of each workload, interleaved; the best counts.", DefaultValueFactory = _ => 3 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table." };
        var precision = new Option<ResNetPrecision>("--precision")
        {
            Description = "The featurizer's arithmetic: float32, or int8 (calibrated on the bench images) against the float32 ONNX Runtime session.",
            DefaultValueFactory = _ => ResNetPrecision.Float32,
        };
        var command = new Command("featurize", "Featurizer throughput in an ML.NET pipeline (in memory and from files) vs a bare ONNX Runtime session.")
        {
            arch, batchSize, imageSize, images, rounds, precision, json,
        };
        command.SetAction(parse => CliOutput.Guard(parse, () =>
        {
            var network = ResNetModels.Options(parse.GetValue(arch)!);
            network.Validate();
            int batch = parse.GetValue(batchSize);
            int size = parse.GetValue(imageSize) ?? (network.Stem == StemKind.Cifar ? 32 : 224);
            int count = parse.GetValue(images) ?? 4 * batch;
            int passes = parse.GetValue(rounds);
            if (batch < 1 || size < 8 || count < 1 || passes < 1)
                return CliOutput.Fail(parse, $"--batch-size, --images and --rounds must be at least 1 and --image-size at least 8; got {batch}, {count}, {passes} and {size}.");
            var result = Measure(parse, network, batch, size, count, passes, parse.GetValue(precision));
            if (parse.GetValue(json))
                parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(result, CliOutput.Json));
            else
                PrintTable(CliOutput.Console(parse), result);
            return 0;
        }));
        return command;
    }

    /// <summary>What the bench prints; the first four properties are its JSON contract.</summary>
    internal sealed record Result(
        double ToolkitImgPerS, double ToolkitFilesImgPerS, double OnnxruntimeImgPerS, double Ratio, double FilesRatio,
        string Arch, string Precision, int BatchSize, int ImageSize, int Images, int Rounds, int IntraOpThreads, int ProcessorCount,
        double[] ToolkitRuns, double[] ToolkitFilesRuns, double[] OnnxruntimeRuns, double[]? LoadAverageBefore, double[]? LoadAverageAfter);

    private static Result Measure(ParseResult parse, ResNetOptions options, int batch, int size, int count, int passes, ResNetPrecision precision)
    {
        var log = parse.InvocationConfiguration.Error;
        var loadBefore = BenchSupport.LoadAverage();
        using var dir = new BenchImages(count, size);
        using var network = new ResNetModel(options);
        var ml = new MLContext(seed: 0);

        // (a) decoded images in memory; (b) the same images as files.
        var decoded = dir.Files.Select(MLImage.CreateFromFile).ToList();
        var inMemory = new InMemoryImages(decoded, size, size);
        var fromFiles = ml.Transforms.LoadImages("Image", null, "ImagePath").Fit(ml.Data.LoadImagesFromFolder(dir.Root)).Transform(ml.Data.LoadImagesFromFolder(dir.Root));
        using var featurizer = ml.Transforms.ResNetFeaturizer(new ResNetFeaturizerOptions
        {
            InputColumnName = "Image", OutputColumnName = "Features", Model = network, ImageSize = size, BatchSize = batch, Precision = precision,
        }).Fit(inMemory);

        // (c) the same exported network in a bare session, configured as the featurizer's engine, on ready-made tensors.
        using var session = RawSession(network, size, out int threads);
        var inputs = RawInputs(decoded, batch, size);
        log.WriteLine($"bench featurize: {options.Name} ({precision.ToString().ToLowerInvariant()} featurizer, float32 ONNX Runtime) at {size}x{size}, batch {batch}, {count} images per pass, {passes} rounds, " +
                      $"ONNX Runtime with {threads} intra-op threads on {Environment.ProcessorCount} processors");

        // Warm up every path: ONNX Runtime sizes its arenas on the first runs.
        RunRaw(session, inputs);
        Drain(featurizer.Transform(ml.Data.TakeRows(inMemory, 2 * batch)));
        Drain(featurizer.Transform(ml.Data.TakeRows(fromFiles, 2 * batch)));

        var toolkit = new Measurements();
        var files = new Measurements();
        var raw = new Measurements();
        for (int round = 1; round <= passes; round++)
        {
            raw.Add(Throughput.Measure(count, () => RunRaw(session, inputs)));
            toolkit.Add(Throughput.Measure(count, () => Drain(featurizer.Transform(inMemory))));
            files.Add(Throughput.Measure(count, () => Drain(featurizer.Transform(fromFiles))));
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"round {round}: onnxruntime {raw.Runs[^1]:F1}, toolkit {toolkit.Runs[^1]:F1}, toolkit from files {files.Runs[^1]:F1} images/s"));
        }
        foreach (var image in decoded)
            image.Dispose();
        foreach (var input in inputs)
            input.Value.Dispose();
        return new Result(Round(toolkit.Best), Round(files.Best), Round(raw.Best), Math.Round(toolkit.Best / raw.Best, 3), Math.Round(files.Best / raw.Best, 3),
            options.Name, precision.ToString().ToLowerInvariant(), batch, size, count, passes, threads, Environment.ProcessorCount,
            [.. toolkit.Runs.Select(Round)], [.. files.Runs.Select(Round)], [.. raw.Runs.Select(Round)], loadBefore, BenchSupport.LoadAverage());
    }

    private static double Round(double value) => Math.Round(value, 2);

    /// <summary>
    /// An ONNX Runtime session over the network exported as the featurizer exports it (pooled features, ImageNet
    /// normalization in the graph, fixed image size, dynamic batch) with the featurizer engine's session options.
    /// </summary>
    private static InferenceSession RawSession(ResNetModel network, int size, out int threads)
    {
        using var stream = new MemoryStream();
        ResNetOnnx.Export(network, stream, new OnnxExportOptions
        {
            Output = ResNetOutputKind.Embedding,
            Normalization = new InputNormalization(ImageModelInput.ImageNetMean, ImageModelInput.ImageNetStd),
            ImageHeight = size,
            ImageWidth = size,
        });
        using var options = OnnxRuntimeBatchScorer.CreateSessionOptions();
        threads = options.IntraOpNumThreads;
        return new InferenceSession(stream.ToArray(), options);
    }

    /// <summary>One ready-made input tensor per batch (the images' pixels in [0, 1]); the last batch may be smaller.</summary>
    private static List<(OrtValue Value, int Rows)> RawInputs(IReadOnlyList<MLImage> images, int batch, int size)
    {
        int length = 3 * size * size;
        var inputs = new List<(OrtValue, int)>();
        for (int start = 0; start < images.Count; start += batch)
        {
            int rows = Math.Min(batch, images.Count - start);
            var data = new float[rows * length];
            for (int r = 0; r < rows; r++)
                ImageTensor.FromImage(images[start + r]).Data.CopyTo(data.AsSpan(r * length, length));
            inputs.Add((OrtValue.CreateTensorValueFromMemory(data, [rows, 3, size, size]), rows));
        }
        return inputs;
    }

    private static void RunRaw(InferenceSession session, List<(OrtValue Value, int Rows)> inputs)
    {
        using var runOptions = new RunOptions();
        string input = session.InputNames[0], output = session.OutputNames[0];
        foreach (var (value, _) in inputs)
        {
            using var results = session.Run(runOptions, [input], [value], [output]);
            _ = results[0].GetTensorDataAsSpan<float>()[0];
        }
    }

    /// <summary>Reads every row's features, as a consumer of the pipeline would.</summary>
    private static void Drain(IDataView scored)
    {
        var column = scored.Schema["Features"];
        using var cursor = scored.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> value = default;
        while (cursor.MoveNext())
            getter(ref value);
    }

    private static void PrintTable(IAnsiConsole console, Result r)
    {
        var table = new Table().Title($"{r.Arch} featurization ({r.Precision}), {r.ImageSize}x{r.ImageSize}, batch {r.BatchSize}: images/s, {r.Images} images x {r.Rounds} rounds");
        table.AddColumns("workload", "best", "rounds", "vs (c)");
        table.AddRow("(a) featurizer, images in memory", F(r.ToolkitImgPerS), string.Join(" ", r.ToolkitRuns.Select(F)), F3(r.Ratio));
        table.AddRow("(b) featurizer, image files", F(r.ToolkitFilesImgPerS), string.Join(" ", r.ToolkitFilesRuns.Select(F)), F3(r.FilesRatio));
        table.AddRow("(c) ONNX Runtime float32, ready tensors", F(r.OnnxruntimeImgPerS), string.Join(" ", r.OnnxruntimeRuns.Select(F)), F3(1));
        foreach (var column in table.Columns.Skip(1))
            column.RightAligned();
        console.Write(table);
        console.WriteLine($"ratio a/c = {F3(r.Ratio)}, b/c = {F3(r.FilesRatio)} (ONNX Runtime: {r.IntraOpThreads} intra-op threads, {r.ProcessorCount} processors)");
        static string F(double v) => v.ToString("F1", CultureInfo.InvariantCulture);
        static string F3(double v) => v.ToString("F3", CultureInfo.InvariantCulture);
    }

    /// <summary>Deterministic test images written as JPEG files in a temporary image folder (one class), deleted on dispose.</summary>
    private sealed class BenchImages : IDisposable
    {
        public BenchImages(int count, int size)
        {
            Root = Path.Combine(Path.GetTempPath(), $"resnet-mlnet-bench-{Guid.NewGuid():N}");
            string folder = Directory.CreateDirectory(Path.Combine(Root, "images")).FullName;
            var random = new Random(0);
            var pixels = new byte[size * size * 4];
            var files = new List<string>();
            for (int i = 0; i < count; i++)
            {
                for (int y = 0; y < size; y++)
                {
                    for (int x = 0; x < size; x++)
                    {
                        int p = 4 * (y * size + x);
                        pixels[p] = (byte)(x * 255 / size + random.Next(32));                 // blue
                        pixels[p + 1] = (byte)(y * 255 / size + random.Next(32));             // green
                        pixels[p + 2] = (byte)((x + y + 7 * i) * 255 / (2 * size) + random.Next(32)); // red
                        pixels[p + 3] = 255;
                    }
                }
                using var image = MLImage.CreateFromPixels(size, size, MLPixelFormat.Bgra32, pixels);
                string file = Path.Combine(folder, $"{i:D5}.jpg");
                image.Save(file);
                files.Add(file);
            }
            Files = files;
        }

        public string Root { get; }

        public IReadOnlyList<string> Files { get; }

        public void Dispose()
        {
            try { Directory.Delete(Root, recursive: true); }
            catch (IOException) { }
        }
    }
}
