using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ResNet.MLNet.Data;
using ResNet.MLNet.Models;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Cli.Commands;

/// <summary>
/// <c>resnet-mlnet featurize</c>: ResNet embeddings of every image of an image folder, through the ML.NET featurizer
/// pipeline (<c>LoadImagesFromFolder → LoadImages → ResNetFeaturizer</c>), written as CSV.
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
        var output = new Option<string>("--out") { Description = "The CSV file to write: path,label,f0..fD-1, one row per image.", Required = true };
        var maxPixels = ImageLimitOption.Create();
        var command = new Command("featurize", "Write ResNet embeddings of an image folder to CSV, through the ML.NET featurizer.")
        {
            data, arch, weights, imageSize, batchSize, split, output, maxPixels,
        };
        command.SetAction(parse => CliOutput.Guard(parse, () =>
        {
            string? weightsPath = parse.GetValue(weights);
            var folder = new ImageFolderOptions { Split = parse.GetValue(split) };
            var entries = ImageFolder.List(parse.GetValue(data)!, folder); // a missing or empty folder fails here
            int total = entries.Count;
            string outPath = Path.GetFullPath(parse.GetValue(output)!);
            if (Path.GetDirectoryName(outPath) is { } outDir && !Directory.Exists(outDir))
                return CliOutput.Fail(parse, $"Cannot write '{outPath}': the folder '{outDir}' does not exist.");

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
            try
            {
                WriteCsv(parse, featurizer.Transform(images), temporary, total, transformer.OutputSize);
                File.Move(temporary, outPath, overwrite: true);
            }
            finally
            {
                File.Delete(temporary); // nothing half-written is left behind when an image fails
            }
            parse.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Wrote {total} rows x {transformer.OutputSize} features ({network.Options.Name}) to {outPath} in {watch.Elapsed.TotalSeconds:F1} s ({total / watch.Elapsed.TotalSeconds:F1} images/s)."));
            return 0;
        }));
        return command;
    }

    private static void WriteCsv(ParseResult parse, IDataView scored, string path, int total, int width)
    {
        using var writer = new StreamWriter(path);
        writer.Write("path,label");
        for (int i = 0; i < width; i++)
            writer.Write(string.Create(CultureInfo.InvariantCulture, $",f{i}"));
        writer.WriteLine();

        var columns = new[] { scored.Schema["ImagePath"], scored.Schema["Label"], scored.Schema["Features"] };
        CliOutput.WithProgress(parse, $"featurizing {total} images", total, step =>
        {
            using var cursor = scored.GetRowCursor(columns);
            var imagePath = cursor.GetGetter<ReadOnlyMemory<char>>(columns[0]);
            var label = cursor.GetGetter<ReadOnlyMemory<char>>(columns[1]);
            var features = cursor.GetGetter<VBuffer<float>>(columns[2]);
            ReadOnlyMemory<char> text = default;
            VBuffer<float> values = default;
            while (cursor.MoveNext())
            {
                imagePath(ref text);
                writer.Write(Csv(text.Span));
                writer.Write(',');
                label(ref text);
                writer.Write(Csv(text.Span));
                features(ref values);
                foreach (float v in values.DenseValues())
                {
                    writer.Write(',');
                    writer.Write(v.ToString(CultureInfo.InvariantCulture));
                }
                writer.WriteLine();
                step();
            }
        });
    }

    /// <summary>A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break.</summary>
    private static string Csv(ReadOnlySpan<char> field) =>
        field.IndexOfAny(",\"\r\n") < 0 ? field.ToString() : $"\"{field.ToString().Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
}
