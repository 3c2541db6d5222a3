using System.CommandLine;
using ResNet.MLNet.Models;
using ResNet.MLNet.Onnx;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Cli.Commands;

/// <summary><c>resnet-mlnet export-onnx</c>: writes a network of the zoo as an ONNX file.</summary>
public static class ExportOnnxCommand
{
    /// <summary>The command and its options.</summary>
    public static Command Create()
    {
        var arch = new Option<string?>("--arch")
        {
            Description = $"Architecture: {string.Join(", ", ResNetModels.Names)}, or cifar_resnetN / cifar_plainN for any depth N = 6n+2. Default: the weights' own.",
        };
        var numClasses = new Option<int?>("--num-classes")
        {
            Description = "Classes of the classifier head; 0 for none (then use --output embedding). Default: the architecture's (1000; 10 for CIFAR nets).",
        };
        var output = new Option<ResNetOutputKind>("--output")
        {
            Description = "What the graph outputs: embedding (the pooled features; 'features' is accepted too), logits or probabilities (softmax).",
            HelpName = "embedding|logits|probabilities",
            DefaultValueFactory = _ => ResNetOutputKind.Logits,
            CustomParser = ParseOutput,
        };
        var imageSize = new Option<int?>("--image-size")
        {
            Description = "Input height and width fixed in the graph; 0 leaves them dynamic. Default: the weights' input size (224; 32 for CIFAR nets).",
        };
        var weights = new Option<string?>("--weights")
        {
            Description = "Weights to export: a registry name (see 'weights list') or a file (.pth, .safetensors, .onnx, TorchSharp); the class count comes from the file's fc.weight unless --num-classes is given, the normalization from the weights. Default: random initial weights.",
        };
        var outFile = new Option<FileInfo>("--out")
        {
            Description = "The ONNX file to write (overwritten if it exists).",
            Required = true,
        };

        var command = new Command("export-onnx", "Export a network to ONNX (opset 17) with the weights' input normalization in the graph.");
        command.Options.Add(arch);
        command.Options.Add(numClasses);
        command.Options.Add(weights);
        command.Options.Add(output);
        command.Options.Add(imageSize);
        command.Options.Add(outFile);
        command.SetAction(parseResult => CliOutput.Guard(parseResult, () =>
        {
            var stdout = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(imageSize) is < 0)
                return CliOutput.Fail(parseResult, $"--image-size must be positive, or 0 for a dynamic size; got {parseResult.GetValue(imageSize)}.");
            var path = parseResult.GetValue(outFile)!;
            if (path.Directory is { Exists: false })
                return CliOutput.Fail(parseResult, $"Cannot write '{path.FullName}': the folder '{path.Directory.FullName}' does not exist.");
            var setup = ZooModels.Build(parseResult.GetValue(arch), parseResult.GetValue(weights), parseResult.GetValue(numClasses), WeightsLoadOptions.Default,
                parseResult.InvocationConfiguration.Error);
            using var model = setup.Model;
            var network = model.Options;
            parseResult.InvocationConfiguration.Error.WriteLine(setup.Report?.ToString() ?? "Note: no weights are loaded (--weights); the exported network has random initial weights.");
            int size = parseResult.GetValue(imageSize) ?? setup.Input.ImageSize;
            int? fixedSize = size == 0 ? null : size;
            var exportOptions = new OnnxExportOptions
            {
                Output = parseResult.GetValue(output),
                Normalization = new InputNormalization(setup.Input.Mean, setup.Input.Std) { MeanImage = fixedSize == setup.Input.ImageSize ? setup.Input.MeanImage : null },
                Input = fixedSize == setup.Input.ImageSize ? setup.Input : setup.Input.WithImageSize(fixedSize),
                ImageHeight = fixedSize,
                ImageWidth = fixedSize,
            };
            exportOptions.Validate(network);
            try
            {
                ResNetOnnx.Export(model, path.FullName, exportOptions);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return CliOutput.Fail(parseResult, $"Cannot write '{path.FullName}': {e.Message}");
            }
            path.Refresh();
            stdout.WriteLine($"Wrote {path.FullName} ({path.Length / 1e6:F1} MB): {network.Name}, output {exportOptions.Output.ToString().ToLowerInvariant()}, " +
                $"input [batch, {network.InChannels}, {Describe(exportOptions.ImageHeight, "height")}, {Describe(exportOptions.ImageWidth, "width")}], opset {ResNetOnnx.OpsetVersion}.");
            return 0;
        }));
        return command;
    }

    private static string Describe(int? size, string dynamicName) => size?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? dynamicName;

    private static ResNetOutputKind ParseOutput(System.CommandLine.Parsing.ArgumentResult result)
    {
        string value = result.Tokens.Single().Value;
        switch (value.ToLowerInvariant())
        {
            case "embedding" or "features":
                return ResNetOutputKind.Embedding;
            case "logits":
                return ResNetOutputKind.Logits;
            case "probabilities":
                return ResNetOutputKind.Probabilities;
            default:
                result.AddError($"--output must be embedding, logits or probabilities; got '{value}'.");
                return default;
        }
    }
}
