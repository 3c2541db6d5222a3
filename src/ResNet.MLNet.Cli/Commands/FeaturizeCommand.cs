using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ResNet.MLNet.Cli.Featurization;
using ResNet.MLNet.Data;
using ResNet.MLNet.Models;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Cli.Commands;

/// <summary>
/// <c>resnet-mlnet featurize</c>: ResNet embeddings of every image of an image folder, through the ML.NET featurizer
/// pipeline (<c>LoadImagesFromFolder → LoadImages → ResNetFeaturizer</c>), streamed batch by batch into CSV or Parquet,
/// optionally for one shard of the sorted file list so that a cluster scheduler can run the shards in parallel.
/// </summary>
internal static class FeaturizeCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Image folder: one sub-folder per class (or train/ and test/ holding them, with --split).", Required = true };
        var arch = new Option<string?>("--arch") { Description = "Architecture (see summary --list). Default: the weights' own." };
        var weights = new Option<string?>("--weights") { Description = "Pretrained weights: a registry name (resnet18.mlnet_in1k; see 'weights list') or a file (.pth, .safetensors, .onnx, TorchSharp). Default: deterministic random weights (not pretrained)." };
        var imageSize = new Option<int?>("--image-size") { Description = "Side of the square network input. Default: the weights' (224; 32 for CIFAR nets)." };
        var batchSize = new Option<int>("--batch-size") { Description = "Images per batch.", DefaultValueFactory = _ => 32 };
        var split = new Option<string?>("--split") { Description = "Sub-folder of --data to read, e.g. train or test." };
        var output = new Option<string>("--out") { Description = "The file to write, .csv or .parquet (columns path, label, f0..fD-1, one row per image), or an existing folder to write part-<i>-of-<n>.parquet into.", Required = true };
        var shard = new Option<string?>("--shard") { Description = "i/n: featurize only shard i (from 0) of n of the sorted file list (every n-th image from the i-th), for parallel jobs." };
        var force = new Option<bool>("--force") { Description = "Replace --out if it exists." };
        var maxPixels = ImageLimitOption.Create();
        var command = new Command("featurize", "Write ResNet embeddings of an image folder to CSV or Parquet, through the ML.NET featurizer.")
        {
            data, arch, weights, imageSize, batchSize, split, output, shard, force, maxPixels,
        };
        command.SetAction(parse => CliOutput.Guard(parse, () =>
        {
            string? weightsPath = parse.GetValue(weights);
            var folder = new ImageFolderOptions { Split = parse.GetValue(split) };
            var part = parse.GetValue(shard) is { } text ? Shard.Parse(text) : Shard.All;
            string outPath = Path.GetFullPath(parse.GetValue(output)!);
            if (Directory.Exists(outPath))
                outPath = Path.Combine(outPath, part.PartName(".parquet"));
            string format = Path.GetExtension(outPath).ToLowerInvariant();
            if (format is not (".csv" or ".parquet"))
                return CliOutput.Fail(parse, $"--out '{outPath}': write a .csv or .parquet file, or name an existing folder for Parquet parts.");
            if (Path.GetDirectoryName(outPath) is { } outDir && !Directory.Exists(outDir))
                return CliOutput.Fail(parse, $"Cannot write '{outPath}': the folder '{outDir}' does not exist.");
            if (File.Exists(outPath) && !parse.GetValue(force))
                return CliOutput.Fail(parse, $"'{outPath}' exists; pass --force to replace it, or write elsewhere.");
            var entries = part.Select(ImageFolder.List(parse.GetValue(data)!, folder)); // a missing or empty folder fails here
            int total = entries.Count;

            var ml = new MLContext(seed: 0);
            var images = ml.Data.LoadImageRows(entries);
            // Built here for any zoo name (cifar_resnetN included); deterministic features when no weights are given.
            var setup = ZooModels.Build(parse.GetValue(arch), weightsPath, numClasses: null, WeightsLoadOptions.Default, parse.InvocationConfiguration.Error);
            using var network = setup.Model;
            var featurizer = ml.Transforms.LoadImages("Image", null, "ImagePath").Append(ml.Transforms.ResNetFeaturizer(new ResNetFeaturizerOptions
            {
                InputColumnName = "Image",
                OutputColumnName = "Features",
                Model = network,
                WeightsPath = setup.Weights?.Pretrained?.Name ?? setup.Weights?.Path,
                Input = setup.Input,
                ImageSize = parse.GetValue(imageSize),
                BatchSize = parse.GetValue(batchSize),
                ImageLimits = ImageLimitOption.Limits(parse, maxPixels),
            })).Fit(images);
            using var transformer = featurizer.LastTransformer;
            if (transformer.LoadingReport is { } report)
                parse.InvocationConfiguration.Error.WriteLine(report.ToString());

            var watch = Stopwatch.StartNew();
            string temporary = outPath + ".partial";
            var metadata = new Dictionary<string, string>
            {
                ["resnet_mlnet.architecture"] = network.Options.Name,
                ["resnet_mlnet.weights"] = weightsPath ?? "none (deterministic random initialization)",
                ["resnet_mlnet.image_size"] = transformer.Input.ImageSize.ToString(CultureInfo.InvariantCulture),
                ["resnet_mlnet.shard"] = part.ToString(),
                ["resnet_mlnet.data"] = Path.GetFullPath(parse.GetValue(data)!) + (folder.Split is { } s ? $" ({s})" : ""),
            };
            try
            {
                using (var writer = FeatureWriters.Create(format, temporary, transformer.OutputSize, metadata))
                {
                    Write(parse, featurizer.Transform(images), writer, total);
                    writer.Complete();
                }
                File.Move(temporary, outPath, overwrite: true);
            }
            finally
            {
                File.Delete(temporary); // nothing half-written is left behind when an image fails
            }
            string of = part.Count > 1 ? $" (shard {part})" : "";
            parse.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Wrote {total} rows x {transformer.OutputSize} features ({network.Options.Name}){of} to {outPath} in {watch.Elapsed.TotalSeconds:F1} s ({total / watch.Elapsed.TotalSeconds:F1} images/s)."));
            return 0;
        }));
        return command;
    }

    private static void Write(ParseResult parse, IDataView scored, IFeatureWriter writer, int total)
    {
        var columns = new[] { scored.Schema["ImagePath"], scored.Schema["Label"], scored.Schema["Features"] };
        CliOutput.WithProgress(parse, $"featurizing {total} images", total, step =>
        {
            using var cursor = scored.GetRowCursor(columns);
            var imagePath = cursor.GetGetter<ReadOnlyMemory<char>>(columns[0]);
            var label = cursor.GetGetter<ReadOnlyMemory<char>>(columns[1]);
            var features = cursor.GetGetter<VBuffer<float>>(columns[2]);
            ReadOnlyMemory<char> path = default, name = default;
            VBuffer<float> values = default;
            var dense = Array.Empty<float>();
            while (cursor.MoveNext())
            {
                imagePath(ref path);
                label(ref name);
                features(ref values);
                if (dense.Length != values.Length)
                    dense = new float[values.Length];
                values.CopyTo(dense);
                writer.Add(path.ToString(), name.ToString(), dense);
                step();
            }
        });
    }
}
