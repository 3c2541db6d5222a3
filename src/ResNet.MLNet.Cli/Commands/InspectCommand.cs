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

    /// <summary>Names are padded to the longest one, but never wider than this: one long name must not widen every line.</summary>
    private const int MaxNameColumn = 60;

    private static int Inspect(string path, TextWriter output)
    {
        var content = WeightsFile.Read(path);
        var tensors = content.Tensors;
        output.WriteLine($"{PrintableName.Of(path)}: {content.Format}");
        foreach (var (key, value) in content.Metadata)
            output.WriteLine($"  metadata {PrintableName.Of(key)} = {PrintableName.Of(value)}");
        output.WriteLine();

        // Names from the file: escaped, cut when very long, padded within a bounded column.
        var names = tensors.Select(t => PrintableName.Of(t.Name)).ToList();
        int nameWidth = Math.Min(names.Select(n => n.Length).DefaultIfEmpty(4).Max(), MaxNameColumn);
        for (int i = 0; i < tensors.Count; i++)
            output.WriteLine($"{names[i].PadRight(nameWidth)}  {tensors[i].DTypeName,-8}  [{string.Join(", ", tensors[i].Shape)}]");
        output.WriteLine();

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"tensors: {tensors.Count:N0}   parameters: {content.ParameterCount:N0} (elements with BatchNorm statistics: {content.ElementCount:N0})   bytes: {content.ByteCount:N0}"));

        var best = ArchitectureDetector.Rank(tensors).FirstOrDefault();
        output.WriteLine(best is { Score: >= 0.5 } ? $"architecture: {best}" : "architecture: none of the zoo's");
        return 0;
    }
}
