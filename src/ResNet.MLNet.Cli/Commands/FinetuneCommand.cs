using ResNet.MLNet.Applications;
using System.CommandLine;
using Microsoft.ML;
using ResNet.MLNet.Models;
using ResNet.MLNet.Pictures;
using ResNet.MLNet.Training;
using ResNet.MLNet.Weights;
using Spectre.Console;

namespace ResNet.MLNet.Cli.Commands;

/// <summary><c>resnet-mlnet finetune</c>: the main job — fine-tune on an image folder, evaluate, write the model.</summary>
internal static class FinetuneCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Folder with train/ and test/ (or val/, valid/, validation/) class folders, or class folders only.", Required = true };
        var arch = new Option<string?>("--arch") { Description = "Architecture (see 'summary --list'). Default: the weights' own, else resnet34." };
        var weights = new Option<string?>("--weights") { Description = "Pretrained weights: a registry name (resnet18.mlnet_in1k, resnet50.tv2_in1k; see 'weights list') or a file (.pth, .safetensors, .onnx, TorchSharp); the head is re-initialized." };
        var epochs = new Option<int>("--epochs") { Description = "Epochs.", DefaultValueFactory = _ => 10 };
        var batchSize = new Option<int>("--batch-size") { Description = "Images per step.", DefaultValueFactory = _ => 32 };
        var imageSize = new Option<int?>("--image-size") { Description = "Network input size in pixels. Default: the weights' (224), else 224." };
        var lr = new Option<float>("--lr") { Description = "Peak learning rate.", DefaultValueFactory = _ => 1e-3f };
        var freezeEpochs = new Option<int>("--freeze-epochs") { Description = "Train the head only for this many epochs first (fastai's fine_tune).", DefaultValueFactory = _ => 0 };
        var seed = new Option<long>("--seed") { Description = "Seed of initialization, data order and augmentation.", DefaultValueFactory = _ => 1 };
        var output = new Option<string>("--out") { Description = "Output directory.", DefaultValueFactory = _ => "resnet-finetune" };
        var resume = new Option<bool>("--resume") { Description = "Continue from the last checkpoint in --out." };
        var force = new Option<bool>("--force") { Description = "Overwrite --out if it exists." };
        var maxPixels = ImageLimitOption.Create();
        var keepCheckpoints = new Option<bool>("--keep-checkpoints") { Description = "Keep checkpoints/ after a successful run (default: removed; weights.safetensors and model.zip stay)." };
        var skipCorrupt = new Option<bool>("--skip-corrupt") { Description = "Leave out (and list) images whose header is unreadable, truncated or over --max-image-pixels, instead of failing." };
        var resumeOverride = new Option<bool>("--resume-override") { Description = "With --resume: continue even if --lr, --batch-size, --image-size, ... differ from the checkpoint's." };
        var cacheImages = new Option<bool?>("--cache-images") { Description = "true: decode every image into memory first (fastest for small sets); false: stream the files with --workers decoders (memory independent of the folder's size). Default: in memory when the decoded images fit in 2 GiB." };
        var bf16 = new Option<string>("--bf16")
        {
            Description = "bfloat16 mixed precision: false, true, or auto (on where the CPU computes bfloat16 natively: AVX512-BF16 or AMX-BF16). The run says what it chose.",
            DefaultValueFactory = _ => "false",
        };
        bf16.AcceptOnlyFromAmong("false", "true", "auto");
        var workers = new Option<int?>("--workers") { Description = "Threads that decode and augment streamed images ahead of training. Default: the processor count." };
        var command = new Command("finetune", "Fine-tune a ResNet on an image folder, evaluate on the test split, and write model.zip, model.onnx, weights, metrics.json, training-curves.png and confusion-matrix.png.")
        {
            data, arch, weights, epochs, batchSize, imageSize, lr, freezeEpochs, seed, output, resume, force, maxPixels, resumeOverride, skipCorrupt, keepCheckpoints, cacheImages, workers, bf16,
        };
        command.SetAction(parse => CliOutput.Guard(parse, () =>
        {
            var console = CliOutput.Console(parse);
            var architecture = parse.GetValue(arch) is { } archName ? ResNetModels.Options(archName) : null;
            string? weightsName = parse.GetValue(weights);
            // For the banner only: no file is read or downloaded here (the classifier resolves the weights once).
            string archLabel = architecture?.Name
                ?? (weightsName is null ? "resnet34" : WeightsRegistry.Find(weightsName)?.Architecture ?? "the weights' architecture");

            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                e.Cancel = true; // finish the step, write the checkpoint, exit cleanly
                cancel.Cancel();
            };
            Console.CancelKeyPress += onCancel;
            try
            {
                var training = new TrainingOptions
                {
                    Epochs = parse.GetValue(epochs),
                    BatchSize = parse.GetValue(batchSize),
                    LearningRate = parse.GetValue(lr),
                    FreezeEpochs = parse.GetValue(freezeEpochs),
                    Seed = parse.GetValue(seed),
                    ImageSize = parse.GetValue(imageSize),
                    CancellationToken = cancel.Token,
                    ResumeOverride = parse.GetValue(resumeOverride),
                    DecodeWorkers = parse.GetValue(workers),
                    MixedPrecisionBFloat16 = parse.GetValue(bf16) switch { "true" => true, "auto" => BFloat16Support.IsNativeOnCpu, _ => false },
                };
                var job = new FineTuneOptions
                {
                    DataFolder = parse.GetValue(data)!,
                    OutputDirectory = parse.GetValue(output)!,
                    Architecture = architecture,
                    WeightsPath = weightsName,
                    Training = training,
                    Resume = parse.GetValue(resume),
                    Force = parse.GetValue(force),
                    ImageLimits = ImageLimitOption.Limits(parse, maxPixels),
                    SkipCorrupt = parse.GetValue(skipCorrupt),
                    KeepCheckpoints = parse.GetValue(keepCheckpoints),
                    CacheDecodedImages = parse.GetValue(cacheImages),
                };
                ImageFolderFineTuning.Validate(job); // refuse a bad --data or --out before announcing the job
                string from = weightsName is null ? "from scratch" : $"from {weightsName}";
                console.MarkupLine($"Fine-tuning [bold]{Markup.Escape(archLabel)}[/] {Markup.Escape(from)} on [bold]{Markup.Escape(job.DataFolder)}[/] ({training.Epochs} epochs, batch {training.BatchSize}{(training.ImageSize is int px ? $", {px}px" : "")}) -> {Markup.Escape(Path.GetFullPath(job.OutputDirectory))}");
                FineTuneResult? result = null;
                TrainingProgressView.Run(console, training, () => result = ImageFolderFineTuning.Run(new MLContext(), job), heldOutLabel: "test");
                string outDir = Path.GetFullPath(job.OutputDirectory);
                console.MarkupLine(Markup.Escape(result!.DataLoading));
                console.MarkupLine(Markup.Escape($"precision: {result.Training.Precision}"));
                foreach (var skipped in result!.SkippedImages)
                    parse.InvocationConfiguration.Error.WriteLine($"warning: skipped {Weights.PrintableName.Escape(skipped.Message, keepNewlines: false)}");
                if (result.Training.History.Count > 0)
                    File.WriteAllBytes(Path.Combine(outDir, "training-curves.png"), TrainingCurves.LossAndAccuracy(result.Training.History, result.Architecture, heldOutLabel: "test").ToPng());
                if (result.Metrics is null)
                {
                    parse.InvocationConfiguration.Error.WriteLine(result.Training.History.Count == 0
                        ? "Interrupted before the first epoch completed: nothing was checkpointed. The same command with --resume starts over in the same folder."
                        : $"Interrupted. Completed epochs are checkpointed in {Path.Combine(outDir, "checkpoints")}; continue with the same command and --resume.");
                    return CliOutput.Interrupted;
                }
                File.WriteAllBytes(Path.Combine(outDir, "confusion-matrix.png"), ConfusionMatrixPicture.Of(result.Metrics.Classes, result.Metrics.ConfusionMatrix,
                    $"{result.Architecture}: confusion matrix (accuracy {result.Metrics.Accuracy:P1})").ToPng());
                MetricsView.Write(console, result.Metrics);
                console.MarkupLine($"Done in {result.Seconds:F0} s. Wrote model.zip, model.onnx, weights.safetensors, metrics.json, training-curves.png, confusion-matrix.png to {Markup.Escape(outDir)}");
                return 0;
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        }));
        return command;
    }
}
