using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ResNet.MLNet.Models;
using ResNet.MLNet.Training;
using TorchSharp;

namespace ResNet.MLNet.Cli.Commands;

/// <summary>
/// <c>resnet-mlnet bench train</c>: training images/s of <see cref="ResNetTrainer"/> (preprocessing, forward, cross-entropy,
/// backward, SGD with momentum) on synthetic images, after warm-up steps, and in the same run the same step in PyTorch on
/// torchvision's network (Bench/pytorch_train_bench.py under /usr/bin/python3) when it is installed.
/// </summary>
internal static class BenchTrainCommand
{
    public static Command Create()
    {
        var arch = new Option<string>("--arch") { Description = "Architecture (see summary --list).", Required = true };
        var batchSize = new Option<int>("--batch-size") { Description = "Images per step.", DefaultValueFactory = _ => 16 };
        var imageSize = new Option<int>("--image-size") { Description = "Side of the square input.", DefaultValueFactory = _ => 224 };
        var steps = new Option<int>("--steps") { Description = "Timed steps, after the warm-up.", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed steps first.", DefaultValueFactory = _ => 2 };
        var bf16 = new Option<bool>("--bf16") { Description = "Mixed precision: the toolkit's bfloat16 compute copy, PyTorch's bfloat16 autocast." };
        var noPeer = new Option<bool>("--no-peer") { Description = "Do not run the PyTorch measurement." };
        var rounds = new Option<int>("--rounds") { Description = "Measurements of each, interleaved (toolkit, PyTorch, toolkit, ...); the best of each counts.", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var profile = new Option<bool>("--profile")
        {
            Description = "Where a step's time goes instead: forward and backward per stage and per convolution kind, and the optimizer, " +
                          "for the toolkit and PyTorch on the same shapes (--steps repetitions each, best counts; float32).",
        };
        var command = new Command("train", "Training images/s of ResNetTrainer steps on synthetic data vs PyTorch on the same torchvision network.")
        {
            arch, batchSize, imageSize, steps, warmup, bf16, noPeer, rounds, profile, json,
        };
        command.SetAction(parse => CliOutput.Guard(parse, () =>
        {
            var options = ResNetModels.Options(parse.GetValue(arch)!);
            int batch = parse.GetValue(batchSize), size = parse.GetValue(imageSize), timed = parse.GetValue(steps), untimed = parse.GetValue(warmup);
            int roundCount = parse.GetValue(rounds);
            if (batch < 2 || size < 8 || timed < 1 || untimed < 0 || roundCount < 1)
                return CliOutput.Fail(parse, $"--batch-size must be at least 2, --image-size at least 8, --steps at least 1, --warmup at least 0 and --rounds at least 1; got {batch}, {size}, {timed}, {untimed} and {roundCount}.");
            bool mixed = parse.GetValue(bf16);
            if (parse.GetValue(profile))
                return Profile(parse, options, batch, size, timed, runPeer: !parse.GetValue(noPeer), parse.GetValue(json));
            var log = parse.InvocationConfiguration.Error;
            var loadBefore = BenchSupport.LoadAverage();
            int threads = torch.get_num_threads();
            var toolkitRuns = new Measurements();
            var peerRuns = new Measurements();
            bool runPeer = !parse.GetValue(noPeer);
            string peerNote = "not run (--no-peer)";
            for (int round = 1; round <= roundCount; round++)
            {
                // Interleaved, so a change of load during the run moves both sides alike.
                toolkitRuns.Add(MeasureToolkit(options, batch, size, untimed, timed, mixed));
                if (runPeer)
                {
                    (double? img, peerNote) = MeasurePyTorch(options, batch, size, untimed, timed, mixed, threads);
                    if (img is { } value)
                        peerRuns.Add(value);
                    runPeer = img is not null; // a peer that cannot run is not retried
                }
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {round}: toolkit {toolkitRuns.Runs[^1]:F2} img/s{(peerRuns.Runs.Count == round ? $", PyTorch {peerRuns.Runs[^1]:F2} img/s" : "")}, load {BenchSupport.FormatLoad(BenchSupport.LoadAverage())}"));
            }
            double toolkit = toolkitRuns.Best;
            double? peer = peerRuns.Runs.Count > 0 ? peerRuns.Best : null;
            var loadAfter = BenchSupport.LoadAverage();
            double? ratio = peer is > 0 ? toolkit / peer.Value : null;
            if (parse.GetValue(json))
            {
                parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(new
                {
                    arch = options.Name, batch_size = batch, image_size = size,
                    toolkit_img_per_s = Math.Round(toolkit, 3), pytorch_img_per_s = peer is null ? (double?)null : Math.Round(peer.Value, 3),
                    ratio = ratio is null ? (double?)null : Math.Round(ratio.Value, 3),
                    toolkit_runs = toolkitRuns.Runs.Select(v => Math.Round(v, 3)), pytorch_runs = peerRuns.Runs.Select(v => Math.Round(v, 3)),
                    bf16 = mixed, steps = timed, warmup = untimed, rounds = roundCount, threads, pytorch_note = peerNote,
                    load_average_before = loadBefore, load_average_after = loadAfter,
                }, CliOutput.Json));
                return 0;
            }
            var output = parse.InvocationConfiguration.Output;
            string precision = mixed ? "bf16" : "fp32";
            output.WriteLine($"{options.Name} {size}x{size} batch {batch} {precision}, {timed} timed steps after {untimed}, {threads} threads, best of {roundCount} rounds");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  ResNet.MLNet (TorchSharp): {toolkit:F2} img/s"));
            output.WriteLine($"  toolkit precision: {BFloat16Support.Describe(mixed, "cpu")}");
            output.WriteLine(peer is null
                ? $"  PyTorch: {peerNote}"
                : string.Create(CultureInfo.InvariantCulture, $"  PyTorch {(mixed ? "bf16 autocast" : "eager fp32")}: {peer:F2} img/s  ({peerNote})"));
            if (ratio is not null)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  ratio toolkit / PyTorch: {ratio:F2}"));
            output.WriteLine($"  load average before {BenchSupport.FormatLoad(loadBefore)}, after {BenchSupport.FormatLoad(loadAfter)}");
            log.Flush();
            return 0;
        }));
        return command;
    }

    /// <summary>Runs one epoch of <see cref="ResNetTrainer.Train"/> over warm-up + timed batches of random images; images/s of the timed steps.</summary>
    private static double MeasureToolkit(ResNetOptions options, int batch, int size, int warmup, int steps, bool bf16)
    {
        int count = batch * (warmup + steps);
        var random = new Random(0);
        var pixels = new byte[(long)count * options.InChannels * size * size];
        random.NextBytes(pixels);
        var labels = Enumerable.Range(0, count).Select(_ => (long)random.Next(options.NumClasses)).ToArray();
        var classes = Enumerable.Range(0, options.NumClasses).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        using var data = InMemoryImageDataset.FromPixels(pixels, options.InChannels, size, size, labels, classes);
        using var model = new ResNetModel(options);
        var clock = new StepClock();
        ResNetTrainer.Train(model, data, null, new TrainingOptions
        {
            Epochs = 1, BatchSize = batch, Optimizer = OptimizerKind.Sgd, LearningRate = 0.01f, Momentum = 0.9f, WeightDecay = 1e-4f,
            NoWeightDecayOnNormAndBias = false, Schedule = ScheduleKind.Constant, Augmentation = Augmentation.None,
            ImageSize = size, MixedPrecisionBFloat16 = bf16, Progress = clock,
        });
        var ends = clock.StepEnds;
        double start = warmup == 0 ? 0 : ends[warmup - 1];
        return (double)batch * steps / (ends[warmup + steps - 1] - start);
    }

    /// <summary><c>--profile</c>: the toolkit's and PyTorch's time per part, convolution kind and optimizer step, side by side.</summary>
    private static int Profile(ParseResult parse, ResNetOptions options, int batch, int size, int repeats, bool runPeer, bool json)
    {
        var loadBefore = BenchSupport.LoadAverage();
        var toolkit = TrainProfile.Toolkit(options, batch, size, repeats);
        TrainProfile.Result? peer = null;
        string note = "not run (--no-peer)";
        if (runPeer)
        {
            var (result, why) = RunPyTorch(options, batch, size, 0, repeats, false, torch.get_num_threads(), "--profile");
            note = why;
            peer = result?.Deserialize<TrainProfile.Result>();
        }
        var loadAfter = BenchSupport.LoadAverage();
        var output = parse.InvocationConfiguration.Output;
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(new { arch = options.Name, batch_size = batch, image_size = size, toolkit, pytorch = peer, pytorch_note = note,
                load_average_before = loadBefore, load_average_after = loadAfter }, CliOutput.Json));
            return 0;
        }
        output.WriteLine($"{options.Name} {size}x{size} batch {batch} fp32, {torch.get_num_threads()} threads: ms per batch, best of {repeats}; PyTorch: {note}");
        static string F(double? value, string format = "F1") => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";
        void Rows(string title, IReadOnlyList<TrainProfile.Part> mine, IReadOnlyList<TrainProfile.Part>? theirs)
        {
            output.WriteLine($"  {title,-22} {"n",3} {"fwd",9} {"bwd",9} | {"PyTorch fwd",11} {"bwd",9} | toolkit/PyTorch");
            foreach (var part in mine)
            {
                var other = theirs?.FirstOrDefault(p => p.Name == part.Name);
                double? ratio = other is null ? null : (part.ForwardMs + part.BackwardMs) / (other.ForwardMs + other.BackwardMs);
                output.WriteLine($"  {part.Name,-22} {part.Count,3} {F(part.ForwardMs),9} {F(part.BackwardMs),9} | {F(other?.ForwardMs),11} {F(other?.BackwardMs),9} | {F(ratio, "F2")}");
            }
            double total = mine.Sum(p => p.ForwardMs + p.BackwardMs);
            double? peerTotal = theirs?.Sum(p => p.ForwardMs + p.BackwardMs);
            output.WriteLine($"  {"sum (fwd + bwd)",-22} {"",3} {F(total),19} | {F(peerTotal),21} | {F(total / peerTotal, "F2")}");
        }
        Rows("part", toolkit.Parts, peer?.Parts);
        Rows("convolution kind", toolkit.Convs, peer?.Convs);
        output.WriteLine($"  optimizer step (SGD)   {F(toolkit.OptimizerMs)} ms | PyTorch {F(peer?.OptimizerMs)} ms");
        output.WriteLine($"  whole step, bare loop  {F(toolkit.StepMs)} ms | PyTorch {F(peer?.StepMs)} ms | {F(toolkit.StepMs / peer?.StepMs, "F2")}");
        output.WriteLine($"  load average before {BenchSupport.FormatLoad(loadBefore)}, after {BenchSupport.FormatLoad(loadAfter)}");
        return 0;
    }

    /// <summary>PyTorch's images/s from the committed script, or null and why not.</summary>
    private static (double? ImgPerS, string Note) MeasurePyTorch(ResNetOptions options, int batch, int size, int warmup, int steps, bool bf16, int threads)
    {
        var (result, note) = RunPyTorch(options, batch, size, warmup, steps, bf16, threads);
        return result is { } r ? (r.GetProperty("img_per_s").GetDouble(), note) : (null, note);
    }

    /// <summary>Runs the committed PyTorch script; its last JSON line, or null and why not.</summary>
    private static (JsonElement? Result, string Note) RunPyTorch(ResNetOptions options, int batch, int size, int warmup, int steps, bool bf16, int threads,
        params string[] extra)
    {
        if (options.Stem == StemKind.Cifar)
            return (null, $"not measured: torchvision has no {options.Name}");
        string[] arguments =
        [
            "--arch", options.Name, "--batch-size", $"{batch}", "--image-size", $"{size}", "--steps", $"{steps}",
            "--warmup", $"{warmup}", "--threads", $"{threads}", "--num-classes", $"{options.NumClasses}", .. extra, .. (bf16 ? ["--bf16"] : Array.Empty<string>()),
        ];
        var (found, why) = BenchSupport.RunPython("pytorch_train_bench.py", arguments);
        if (found is not { } result)
            return (null, why);
        return (result,
            $"torch {result.GetProperty("torch").GetString()}, torchvision {result.GetProperty("torchvision").GetString()}, {result.GetProperty("threads").GetInt32()} threads");
    }
}
