using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using ResNet.MLNet.Data;
using ResNet.MLNet.Models;
using ResNet.MLNet.Training;

namespace ResNet.MLNet.Cli.Commands;

/// <summary>
/// <c>resnet-mlnet bench stream</c>: fine-tuning from an image folder through the ML.NET estimator as a user runs it
/// (<c>LoadImageRows → MapValueToKey → LoadImages → ResNetClassifier</c>), with the images decoded into memory or
/// streamed from their files: seconds from the start to the first step (listing, header checks, decoding), training
/// images/s after the first steps, seconds per epoch, and this process's peak resident memory. Run the two modes in
/// separate processes to compare their peaks.
/// </summary>
internal static class BenchStreamCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Image folder (class folders), e.g. from 'bench images'.", Required = true };
        var arch = new Option<string>("--arch") { Description = "Architecture.", DefaultValueFactory = _ => "resnet18" };
        var weights = new Option<string?>("--weights") { Description = "Pretrained weights (registry name or file). Default: resnet18.mlnet_in1k (ML.NET's ImageNet ResNet-18) for resnet18, else none." };
        var imageSize = new Option<int>("--image-size") { Description = "Network input size.", DefaultValueFactory = _ => 224 };
        var batchSize = new Option<int>("--batch-size") { Description = "Images per step.", DefaultValueFactory = _ => 32 };
        var steps = new Option<int>("--steps") { Description = "Stop after this many steps (0: run every epoch).", DefaultValueFactory = _ => 30 };
        var epochs = new Option<int>("--epochs") { Description = "Epochs.", DefaultValueFactory = _ => 1 };
        var limit = new Option<int?>("--limit") { Description = "Use only this many images, evenly spaced over the sorted list." };
        var cacheImages = new Option<bool?>("--cache-images") { Description = "true: decode into memory; false: stream; default: the classifier's choice (2 GiB budget)." };
        var workers = new Option<int?>("--workers") { Description = "Decoding workers when streaming. Default: the processor count." };
        var headOnly = new Option<bool>("--head-only") { Description = "Train the classifier head only (the backbone frozen)." };
        var noAugment = new Option<bool>("--no-augment") { Description = "No augmentation (then head-only epochs can use cached features)." };
        var cacheFeatures = new Option<bool>("--cache-features") { Description = "Cache the frozen backbone's features in head-only epochs.", DefaultValueFactory = _ => true };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var command = new Command("stream", "Fine-tuning from an image folder in memory or streamed: time to the first step, images/s, seconds per epoch, peak memory.")
        {
            data, arch, weights, imageSize, batchSize, steps, epochs, limit, cacheImages, workers, headOnly, noAugment, cacheFeatures, json,
        };
        command.SetAction(parse => CliOutput.Guard(parse, () =>
        {
            // Started first, so that its step times count from the start of the command (listing, checks, decoding).
            using var cancel = new CancellationTokenSource();
            var epochSeconds = new List<double>();
            int stepLimit = parse.GetValue(steps);
            var stepClock = new StepClock(
                onEpoch: p => epochSeconds.Add(p.EpochMetrics!.Seconds),
                onStep: p =>
                {
                    if (stepLimit > 0 && p.Step >= stepLimit)
                        cancel.Cancel();
                });
            var load = BenchSupport.LoadAverage();
            string folder = Path.GetFullPath(parse.GetValue(data)!);
            var entries = ImageFolder.List(folder);
            if (parse.GetValue(limit) is int n && n < entries.Count)
                entries = Enumerable.Range(0, n).Select(i => entries[(int)((long)i * entries.Count / n)]).ToList();
            string archName = parse.GetValue(arch)!;
            var architecture = Enum.GetValues<ResNetArchitecture>().First(a => ResNetModels.Name(a) == ResNetModels.Options(archName).Name);
            string? weightsPath = parse.GetValue(weights) ?? (archName == "resnet18" ? "resnet18.mlnet_in1k" : null);
            var options = new ResNetClassifierOptions
            {
                Architecture = weightsPath is null ? architecture : null, // weights bring their own architecture
                WeightsPath = weightsPath,
                CacheDecodedImages = parse.GetValue(cacheImages),
                Training = new TrainingOptions
                {
                    Seed = 1,
                    Epochs = parse.GetValue(epochs),
                    BatchSize = parse.GetValue(batchSize),
                    ImageSize = parse.GetValue(imageSize),
                    DecodeWorkers = parse.GetValue(workers),
                    Freeze = parse.GetValue(headOnly) ? FreezeMode.HeadOnly : FreezeMode.None,
                    Augmentation = parse.GetValue(noAugment) ? Augmentation.None : new Augmentation(),
                    CacheFrozenFeatures = parse.GetValue(cacheFeatures),
                    CancellationToken = cancel.Token,
                    Progress = stepClock,
                },
            };
            var ml = new MLContext(seed: 1);
            var rows = ml.Data.LoadImageRows(entries);
            var prepare = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.LoadImages("Image", null, "ImagePath")).Fit(rows);
            using var classifier = ml.MulticlassClassification.Trainers.ResNetClassifier(options).Fit(prepare.Transform(rows));
            double? peak = BenchSupport.PeakResidentMegabytes();

            var ends = stepClock.StepEnds;
            const int skip = 3; // the first steps warm up oneDNN and the allocator
            int perStep = options.Training.BatchSize;
            double? imagesPerSecond = ends.Count > skip + 1 ? (ends.Count - 1 - skip) * perStep / (ends[^1] - ends[skip]) : null;
            var result = new
            {
                images = entries.Count, arch = archName, image_size = options.Training.ImageSize, batch_size = perStep,
                data_loading = classifier.DataLoading, seconds_to_first_step = ends.FirstOrDefault(), steps = ends.Count,
                images_per_second = imagesPerSecond, epoch_seconds = epochSeconds, peak_rss_mb = peak, load_before = load,
            };
            if (parse.GetValue(json))
            {
                parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(result));
                return 0;
            }
            var output = parse.InvocationConfiguration.Output;
            output.WriteLine(classifier.DataLoading);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{entries.Count} images, {archName} at {result.image_size} px, batch {perStep}: first step after {result.seconds_to_first_step:F1} s; " +
                $"{(imagesPerSecond is { } ips ? $"{ips:F1} training images/s over steps {skip + 1}..{ends.Count}" : "too few steps for a rate")}; " +
                $"peak RSS {peak:F0} MB (load before {BenchSupport.FormatLoad(load)})."));
            if (epochSeconds.Count > 0)
                output.WriteLine("epoch seconds: " + string.Join(", ", epochSeconds.Select(s => s.ToString("F1", CultureInfo.InvariantCulture))));
            return 0;
        }));
        return command;
    }
}
