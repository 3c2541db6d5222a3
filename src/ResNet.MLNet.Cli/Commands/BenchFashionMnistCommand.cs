using System.Buffers.Binary;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using ResNet.MLNet.Models;
using ResNet.MLNet.Training;

namespace ResNet.MLNet.Cli.Commands;

/// <summary>
/// <c>resnet-mlnet bench fashion-mnist</c>: trains a zoo network from scratch on Fashion-MNIST (the gzip IDX files of
/// Debian's dataset-fashion-mnist, read straight into <see cref="InMemoryImageDataset"/>s) with <see cref="ResNetTrainer"/>
/// and reports test loss and accuracy per epoch, time per epoch and in total. A benchmark, not a test: it takes minutes per epoch.
/// </summary>
internal static class BenchFashionMnistCommand
{
    private static readonly string[] ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    public static Command Create()
    {
        var arch = new Option<string>("--arch") { Description = "Architecture (see summary --list).", Required = true };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs.", DefaultValueFactory = _ => 1 };
        var imageSize = new Option<int>("--image-size") { Description = "Side of the network input (the 28x28 images are resized).", DefaultValueFactory = _ => 28 };
        var limit = new Option<int?>("--limit") { Description = "Train on the first N training images only (default all 60,000)." };
        var testLimit = new Option<int?>("--test-limit") { Description = "Test on the first N test images only (default all 10,000)." };
        var batchSize = new Option<int>("--batch-size") { Description = "Images per step.", DefaultValueFactory = _ => 128 };
        var lr = new Option<float>("--lr") { Description = "Peak learning rate (SGD, Nesterov momentum 0.9, weight decay 5e-4, one-cycle).", DefaultValueFactory = _ => 0.1f };
        var bf16 = new Option<bool>("--bf16") { Description = "Mixed precision (bfloat16 compute)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the initial weights, the batch order and the flips.", DefaultValueFactory = _ => 0 };
        var data = new Option<string>("--data") { Description = "Folder of the four gzip IDX files.", DefaultValueFactory = _ => "/usr/share/datasets/fashion-mnist" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object at the end." };
        var command = new Command("fashion-mnist", "Train from scratch on Fashion-MNIST: test accuracy per epoch, time per epoch and total.")
        {
            arch, epochs, imageSize, limit, testLimit, batchSize, lr, bf16, seed, data, json,
        };
        command.SetAction(parse => CliOutput.Guard(parse, () =>
        {
            var output = parse.InvocationConfiguration.Output;
            var log = parse.InvocationConfiguration.Error;
            var options = ResNetModels.Options(parse.GetValue(arch)!) with { InChannels = 1, NumClasses = ClassNames.Length };
            int size = parse.GetValue(imageSize);
            string folder = parse.GetValue(data)!;
            var total = Stopwatch.StartNew();
            var loadBefore = BenchSupport.LoadAverage();
            using var train = ReadIdx(folder, "train", parse.GetValue(limit));
            using var test = ReadIdx(folder, "t10k", parse.GetValue(testLimit));
            double readSeconds = total.Elapsed.TotalSeconds;
            using var model = ResNetModels.Build(options, parse.GetValue(seed));
            var summary = ModelSummary.Of(model, size);
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"fashion-mnist: {options.Name} (1 channel, 10 classes) at {size}x{size}, {summary.Parameters:N0} parameters, {summary.Macs / 1e6:F1} MMACs/image; " +
                $"{train.Count} train / {test.Count} test images read in {readSeconds:F1} s; load {BenchSupport.FormatLoad(loadBefore)}"));
            var clock = new StepClock(p =>
            {
                var m = p.EpochMetrics!;
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"epoch {m.Epoch}/{p.TotalEpochs}: train loss {m.TrainLoss:F4} acc {m.TrainAccuracy:F4}, test loss {m.ValidationLoss:F4} acc {m.ValidationAccuracy:F4}, " +
                    $"{m.Seconds:F1} s ({m.ImagesPerSecond:F0} img/s training), load {BenchSupport.FormatLoad(BenchSupport.LoadAverage())}"));
            }, p =>
            {
                // A tenth of an epoch at a time, so a long run shows it is alive.
                if (p.Step % Math.Max(1, p.StepsPerEpoch / 10) == 0)
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  epoch {p.Epoch} step {p.Step}/{p.StepsPerEpoch}: loss {p.Loss:F4} acc {p.Accuracy:F4}, {p.ImagesPerSecond:F0} img/s, load {BenchSupport.FormatLoad(BenchSupport.LoadAverage())}"));
            });
            var result = ResNetTrainer.Train(model, train, test, new TrainingOptions
            {
                Epochs = parse.GetValue(epochs), BatchSize = parse.GetValue(batchSize), Optimizer = OptimizerKind.Sgd, LearningRate = parse.GetValue(lr),
                Momentum = 0.9f, Nesterov = true, WeightDecay = 5e-4f, Schedule = ScheduleKind.OneCycle,
                Augmentation = new Augmentation { RandomResizedCrop = false, HorizontalFlip = true, ColorJitter = 0 },
                Input = new ImageModelInput { Channels = 1, ImageSize = size, Mean = [0.2860f], Std = [0.3530f] },
                MixedPrecisionBFloat16 = parse.GetValue(bf16), Progress = clock, Seed = parse.GetValue(seed),
            });
            var loadAfter = BenchSupport.LoadAverage();
            var last = result.History[^1];
            var report = new
            {
                arch = options.Name, image_size = size, train_images = train.Count, test_images = test.Count, parameters = summary.Parameters, macs = summary.Macs,
                seed = parse.GetValue(seed), epochs = result.History.Count, test_accuracy = last.ValidationAccuracy, test_loss = last.ValidationLoss,
                seconds_per_epoch = result.History.Average(e => e.Seconds), total_seconds = total.Elapsed.TotalSeconds,
                history = result.History.Select(e => new
                {
                    epoch = e.Epoch, train_loss = e.TrainLoss, train_accuracy = e.TrainAccuracy, test_loss = e.ValidationLoss, test_accuracy = e.ValidationAccuracy,
                    seconds = e.Seconds, train_img_per_s = e.ImagesPerSecond,
                }),
                load_average_before = loadBefore, load_average_after = loadAfter,
            };
            if (parse.GetValue(json))
                output.WriteLine(JsonSerializer.Serialize(report, CliOutput.Json));
            else
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{options.Name} at {size}px: test accuracy {last.ValidationAccuracy:F4} after {result.History.Count} epochs, " +
                    $"{report.seconds_per_epoch:F1} s/epoch, {report.total_seconds:F1} s total; load {BenchSupport.FormatLoad(loadAfter)}"));
            return 0;
        }));
        return command;
    }

    /// <summary>Reads <c>{prefix}-images-idx3-ubyte.gz</c> and <c>{prefix}-labels-idx1-ubyte.gz</c>, the first <paramref name="limit"/> images.</summary>
    /// <exception cref="InvalidDataException">A file is not an IDX file of the expected kind, or the counts differ.</exception>
    internal static InMemoryImageDataset ReadIdx(string folder, string prefix, int? limit)
    {
        string imagesPath = Path.Combine(folder, $"{prefix}-images-idx3-ubyte.gz");
        string labelsPath = Path.Combine(folder, $"{prefix}-labels-idx1-ubyte.gz");
        byte[] images = Gunzip(imagesPath);
        byte[] labels = Gunzip(labelsPath);
        if (images.Length < 16 || BinaryPrimitives.ReadInt32BigEndian(images) != 0x803)
            throw new InvalidDataException($"{imagesPath} is not an IDX file of uint8 images (magic 0x00000803).");
        if (labels.Length < 8 || BinaryPrimitives.ReadInt32BigEndian(labels) != 0x801)
            throw new InvalidDataException($"{labelsPath} is not an IDX file of uint8 labels (magic 0x00000801).");
        int count = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(4));
        int rows = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(8));
        int cols = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(12));
        int labelCount = BinaryPrimitives.ReadInt32BigEndian(labels.AsSpan(4));
        if (labelCount != count || images.Length != 16 + (long)count * rows * cols || labels.Length != 8 + count)
            throw new InvalidDataException($"{imagesPath} ({count} images of {rows}x{cols}, {images.Length} bytes) and {labelsPath} ({labelCount} labels, {labels.Length} bytes) do not fit together.");
        int n = limit is { } l ? Math.Clamp(l, 0, count) : count;
        var labelValues = new long[n];
        for (int i = 0; i < n; i++)
            labelValues[i] = labels[8 + i];
        return InMemoryImageDataset.FromPixels(images.AsSpan(16, n * rows * cols), 1, rows, cols, labelValues, ClassNames);
    }

    private static byte[] Gunzip(string path)
    {
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var memory = new MemoryStream();
        gzip.CopyTo(memory);
        return memory.ToArray();
    }
}
