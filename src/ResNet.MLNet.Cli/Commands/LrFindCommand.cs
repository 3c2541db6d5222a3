using System.CommandLine;
using System.Globalization;
using ResNet.MLNet.Data;
using ResNet.MLNet.Pictures;
using ResNet.MLNet.Training;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Cli.Commands;

/// <summary><c>resnet-mlnet lr-find</c>: fastai's learning-rate finder on an image folder, with its curve as a PNG.</summary>
internal static class LrFindCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Folder with train/ (and test/) class folders, or class folders only.", Required = true };
        var arch = new Option<string?>("--arch") { Description = "Architecture (see 'summary --list'). Default: the weights' own, else resnet34." };
        var weights = new Option<string?>("--weights") { Description = "Pretrained weights (registry name or file); the head is re-initialized for the folder's classes." };
        var imageSize = new Option<int?>("--image-size") { Description = "Network input size in pixels. Default: the weights' (224), else 224." };
        var batchSize = new Option<int>("--batch-size") { Description = "Images per step.", DefaultValueFactory = _ => 32 };
        var freezeEpochs = new Option<int>("--freeze-epochs") { Description = "As in finetune: above 0, the sweep trains the head only, as those epochs would.", DefaultValueFactory = _ => 0 };
        var steps = new Option<int>("--steps") { Description = "Learning rates tried (one batch each).", DefaultValueFactory = _ => 100 };
        var seed = new Option<long>("--seed") { Description = "Seed of initialization, data order and augmentation.", DefaultValueFactory = _ => 1 };
        var output = new Option<string>("--out") { Description = "PNG of the curve.", DefaultValueFactory = _ => "lr-find.png" };
        var maxPixels = ImageLimitOption.Create();
        var cacheImages = new Option<bool?>("--cache-images") { Description = "As in finetune: true decodes into memory, false streams the files. Default: in memory when the decoded images fit in 2 GiB." };
        var command = new Command("lr-find", "Sweep the learning rate up exponentially, one batch each (fastai's lr_find), print the suggestion and draw the curve.")
        {
            data, arch, weights, imageSize, batchSize, freezeEpochs, steps, seed, output, maxPixels, cacheImages,
        };
        command.SetAction(parse => CliOutput.Guard(parse, () =>
        {
            string folder = parse.GetValue(data)!;
            if (!Directory.Exists(folder))
                return CliOutput.Fail(parse, $"Data folder '{Path.GetFullPath(folder)}' does not exist.");
            var split = Directory.Exists(Path.Combine(folder, "train")) ? new ImageFolderOptions { Split = "train" } : null;
            var entries = ImageFolder.List(folder, split);
            int classes = entries.Select(e => e.Label).Distinct().Count();
            string? archName = parse.GetValue(arch) ?? (parse.GetValue(weights) is null ? "resnet34" : null);
            var setup = ZooModels.Build(archName, parse.GetValue(weights), classes, WeightsLoadOptions.Default, parse.InvocationConfiguration.Error);
            using var network = setup.Model;
            var input = setup.Input.WithImageSize(parse.GetValue(imageSize) ?? setup.Input.ImageSize);
            var limits = ImageLimitOption.Limits(parse, maxPixels);
            bool inMemory = parse.GetValue(cacheImages) ?? ClassifierData.DecodedBytes(entries.Count, input) <= new ResNetClassifierOptions().DecodedImageMemoryBudget;
            using ImageDataset train = inMemory
                ? ImageFolderDataset.Load(folder, input.ImageSize, input.Channels, split, limits)
                : ImageFileDataset.FromFolder(folder, split, limits);
            var options = new TrainingOptions
            {
                BatchSize = parse.GetValue(batchSize),
                FreezeEpochs = parse.GetValue(freezeEpochs),
                Epochs = Math.Max(1, parse.GetValue(freezeEpochs) + 1),
                Seed = parse.GetValue(seed),
                Input = input with { ClassNames = null },
            };
            var finding = ResNetTrainer.FindLearningRate(network, train, options, new LearningRateFinderOptions { Steps = parse.GetValue(steps) });
            string png = Path.GetFullPath(parse.GetValue(output)!);
            File.WriteAllBytes(png, LearningRateCurve.Plot(finding, network.Options.Name).ToPicture(760, 460).ToPng());
            var writer = parse.InvocationConfiguration.Output;
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Suggested learning rate: {finding.Steepest:G2} (steepest descent); minimum/10: {finding.MinimumOver10:G2}. " +
                $"{finding.LearningRates.Count} steps{(finding.Diverged ? ", stopped when the loss exploded" : "")}. Curve: {png}"));
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Use it: finetune --lr {finding.Steepest:G2} ..."));
            return 0;
        }));
        return command;
    }
}
