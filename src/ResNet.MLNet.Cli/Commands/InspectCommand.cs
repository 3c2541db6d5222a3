using System.CommandLine;
using System.Globalization;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Cli.Commands;

/// <summary><c>resnet-mlnet inspect FILE</c>: the tensors of a weight file, their totals and the architecture they fit.</summary>
public static class InspectCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "A weight file: .pth/.pt (torch.save, zip or legacy), .safetensors, or TorchSharp .dat/.bin." };
        var command = new Command("inspect", "List the tensors of a weight file (name, type, shape), their totals, and the zoo architecture they match.");
        command.Arguments.Add(file);
        command.SetAction(parseResult => CommandErrors.Run(parseResult, output => Inspect(parseResult.GetValue(file)!, output)));
        return command;
    }

    private static int Inspect(string path, TextWriter output)
    {
        var content = WeightsFile.Read(path);
        var tensors = content.Tensors;
        output.WriteLine($"{path}: {content.Format}");
        foreach (var (key, value) in content.Metadata)
            output.WriteLine($"  metadata {key} = {value}");
        output.WriteLine();

        int nameWidth = tensors.Select(t => t.Name.Length).DefaultIfEmpty(4).Max();
        foreach (var t in tensors)
            output.WriteLine($"{t.Name.PadRight(nameWidth)}  {t.DTypeName,-8}  [{string.Join(", ", t.Shape)}]");
        output.WriteLine();

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"tensors: {tensors.Count:N0}   parameters: {content.ParameterCount:N0} (elements with BatchNorm statistics: {content.ElementCount:N0})   bytes: {content.ByteCount:N0}"));

        var best = ArchitectureDetector.Rank(tensors).FirstOrDefault();
        output.WriteLine(best is { Score: >= 0.5 } ? $"architecture: {best}" : "architecture: none of the zoo's");
        return 0;
    }
}
