using System.CommandLine;
using ResNet.MLNet.Models;
using ResNet.MLNet.Onnx;

namespace ResNet.MLNet.Cli.Commands;

/// <summary><c>resnet-mlnet export-onnx</c>: writes a network of the zoo as an ONNX file.</summary>
public static class ExportOnnxCommand
{
    /// <summary>The command and its options.</summary>
    public static Command Create()
    {
        var arch = new Option<string>("--arch")
        {
            Description = $"Architecture: {string.Join(", ", ResNetModels.Names)}, or cifar_resnetN / cifar_plainN for any depth N = 6n+2.",
            Required = true,
        };
        var numClasses = new Option<int?>("--num-classes")
        {
            Description = "Classes of the classifier head; 0 for none (then use --output features). Default: the architecture's (1000; 10 for CIFAR nets).",
        };
        var output = new Option<OnnxOutputKind>("--output")
        {
            Description = "What the graph outputs: features (pooled embedding), logits or probabilities (softmax).",
            HelpName = "features|logits|probabilities",
            DefaultValueFactory = _ => OnnxOutputKind.Logits,
        };
        var imageSize = new Option<int?>("--image-size")
        {
            Description = "Input height and width fixed in the graph; 0 leaves them dynamic. Default 224 (32 for CIFAR nets).",
        };
        var outFile = new Option<FileInfo>("--out")
        {
            Description = "The ONNX file to write (overwritten if it exists).",
            Required = true,
        };

        var command = new Command("export-onnx", "Export a network to ONNX (opset 17) with ImageNet input normalization in the graph.");
        command.Options.Add(arch);
        command.Options.Add(numClasses);
        command.Options.Add(output);
        command.Options.Add(imageSize);
        command.Options.Add(outFile);
        command.SetAction(parseResult =>
        {
            var stdout = parseResult.InvocationConfiguration.Output;
            var stderr = parseResult.InvocationConfiguration.Error;
            ResNetOptions network;
            OnnxExportOptions exportOptions;
            try
            {
                network = ResNetModels.Options(parseResult.GetValue(arch)!);
                network = network with { NumClasses = parseResult.GetValue(numClasses) ?? network.NumClasses };
                network.Validate();
                int size = parseResult.GetValue(imageSize) ?? (network.Stem == StemKind.Cifar ? 32 : 224);
                if (size < 0)
                    throw new ArgumentException($"--image-size must be positive, or 0 for a dynamic size; got {size}.");
                int? fixedSize = size == 0 ? null : size;
                exportOptions = new OnnxExportOptions { Output = parseResult.GetValue(output), ImageHeight = fixedSize, ImageWidth = fixedSize };
                exportOptions.Validate(network);
            }
            catch (ArgumentException e)
            {
                stderr.WriteLine(e.Message);
                return 1;
            }

            var path = parseResult.GetValue(outFile)!;
            if (path.Directory is { Exists: false })
            {
                stderr.WriteLine($"Cannot write '{path.FullName}': the folder '{path.Directory.FullName}' does not exist.");
                return 1;
            }
            using var model = CreateModel(network, stderr);
            try
            {
                ResNetOnnx.Export(model, path.FullName, exportOptions);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"Cannot write '{path.FullName}': {e.Message}");
                return 1;
            }
            path.Refresh();
            stdout.WriteLine($"Wrote {path.FullName} ({path.Length / 1e6:F1} MB): {network.Name}, output {exportOptions.Output.ToString().ToLowerInvariant()}, " +
                $"input [batch, {network.InChannels}, {Describe(exportOptions.ImageHeight, "height")}, {Describe(exportOptions.ImageWidth, "width")}], opset {ResNetOnnx.OpsetVersion}.");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The network to export. Weight loading (a <c>--weights FILE</c> option) belongs here once the weight readers land;
    /// until then the network keeps its random initialization, and the command says so.
    /// </summary>
    private static Models.ResNet CreateModel(ResNetOptions network, TextWriter stderr)
    {
        stderr.WriteLine("Note: no weights are loaded; the exported network has random initial weights.");
        return new Models.ResNet(network);
    }

    private static string Describe(int? size, string dynamicName) => size?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? dynamicName;
}
