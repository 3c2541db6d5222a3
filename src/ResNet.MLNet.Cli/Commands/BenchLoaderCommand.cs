using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ResNet.MLNet.Training;
using TorchSharp;

namespace ResNet.MLNet.Cli.Commands;

/// <summary>
/// <c>resnet-mlnet bench loader</c>: decode-and-augment throughput of the streaming loader (<see cref="ImageFileDataset"/>
/// read by N workers: random-resized crop with scale (0.08, 1) from the original, flip, colour jitter 0.2, normalize) against
/// PyTorch's DataLoader with torchvision's same transforms and worker count on the same files (Bench/pytorch_loader_bench.py),
/// interleaved. No network runs: this is the input pipeline alone.
/// </summary>
internal static class BenchLoaderCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Image folder (class folders), e.g. from 'bench images'.", Required = true };
        var imageSize = new Option<int>("--image-size") { Description = "Side of the crops.", DefaultValueFactory = _ => 224 };
        var batchSize = new Option<int>("--batch-size") { Description = "Images per batch.", DefaultValueFactory = _ => 32 };
        var workers = new Option<int>("--workers") { Description = "Decoding workers on both sides.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var batches = new Option<int>("--batches") { Description = "Timed batches, after 2 warm-up batches.", DefaultValueFactory = _ => 40 };
        var rounds = new Option<int>("--rounds") { Description = "Interleaved measurements of each; the best counts.", DefaultValueFactory = _ => 2 };
        var noPeer = new Option<bool>("--no-peer") { Description = "Do not run the PyTorch measurement." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var command = new Command("loader", "Images/s of the streaming loader (decode + augment) vs PyTorch's DataLoader on the same folder.")
        {
            data, imageSize, batchSize, workers, batches, rounds, noPeer, json,
        };
        command.SetAction(parse => CliOutput.Guard(parse, () =>
        {
            string folder = Path.GetFullPath(parse.GetValue(data)!);
            int size = parse.GetValue(imageSize), batch = parse.GetValue(batchSize), threads = parse.GetValue(workers), timed = parse.GetValue(batches);
            int roundCount = parse.GetValue(rounds);
            if (size < 8 || batch < 1 || threads < 1 || timed < 1 || roundCount < 1)
                return CliOutput.Fail(parse, $"--image-size must be at least 8 and --batch-size, --workers, --batches and --rounds at least 1; got {size}, {batch}, {threads}, {timed} and {roundCount}.");
            using var dataset = ImageFileDataset.FromFolder(folder);
            const int warmup = 2;
            if (dataset.Count < (warmup + timed) * batch)
                return CliOutput.Fail(parse, $"'{folder}' holds {dataset.Count} images; {warmup + timed} batches of {batch} need {(warmup + timed) * batch}.");
            var log = parse.InvocationConfiguration.Error;
            var load = BenchSupport.LoadAverage();
            var toolkit = new List<double>();
            var peer = new List<double>();
            string peerNote = parse.GetValue(noPeer) ? "not run (--no-peer)" : "";
            for (int round = 1; round <= roundCount; round++)
            {
                toolkit.Add(MeasureToolkit(dataset, size, batch, threads, warmup, timed, seed: round));
                if (peerNote == "")
                {
                    var (result, why) = BenchSupport.RunPython("pytorch_loader_bench.py",
                        ["--data", folder, "--image-size", $"{size}", "--batch-size", $"{batch}", "--workers", $"{threads}", "--batches", $"{timed}", "--warmup", $"{warmup}"]);
                    if (result is { } r)
                        peer.Add(r.GetProperty("img_per_s").GetDouble());
                    else
                        peerNote = why;
                }
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {round}: toolkit {toolkit[^1]:F1} img/s{(peer.Count == round ? $", PyTorch DataLoader {peer[^1]:F1} img/s" : "")}, load {BenchSupport.FormatLoad(BenchSupport.LoadAverage())}"));
            }
            double best = toolkit.Max();
            double? peerBest = peer.Count > 0 ? peer.Max() : null;
            if (parse.GetValue(json))
            {
                parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(new
                {
                    images = dataset.Count, image_size = size, batch_size = batch, workers = threads, toolkit_img_per_s = best,
                    pytorch_img_per_s = peerBest, ratio = peerBest is > 0 ? best / peerBest : null, load_before = load,
                }));
                return 0;
            }
            var output = parse.InvocationConfiguration.Output;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Streaming loader, {dataset.Count} images in {folder}, {size} px crops, batch {batch}, {threads} workers, best of {roundCount} (load before {BenchSupport.FormatLoad(load)}):"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  toolkit (ImageFileDataset)   {best,8:F1} img/s"));
            output.WriteLine(peerBest is { } p
                ? string.Create(CultureInfo.InvariantCulture, $"  PyTorch DataLoader           {p,8:F1} img/s   ratio toolkit/PyTorch = {best / p:F2}")
                : $"  PyTorch DataLoader           {peerNote}");
            return 0;
        }));
        return command;
    }

    /// <summary>Images/s over <paramref name="timed"/> batches of one shuffled epoch, after <paramref name="warmup"/> batches.</summary>
    private static double MeasureToolkit(ImageFileDataset dataset, int size, int batch, int workers, int warmup, int timed, int seed)
    {
        var input = new ImageModelInput().WithImageSize(size);
        var augmentation = new Augmentation { MinScale = 0.08f };
        int[] order = Enumerable.Range(0, dataset.Count).ToArray();
        RandomSource.For(seed, 0, stream: 0).Shuffle(order);
        using var batches = new StreamedBatches(dataset, order, warmup + timed, batch, new ImageFileTransform(input, augmentation), (seed, 0), workers, 2 * workers);
        var device = new torch.Device("cpu");
        var clock = new Stopwatch();
        for (int k = 0; k < warmup + timed; k++)
        {
            if (k == warmup)
                clock.Start();
            using var scope = torch.NewDisposeScope();
            batches.Take(k, device);
        }
        return timed * batch / clock.Elapsed.TotalSeconds;
    }
}
