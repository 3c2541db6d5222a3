using System.CommandLine;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Cli.Commands;

/// <summary><c>resnet-mlnet convert --in FILE --out FILE</c>: rewrites weights in another format.</summary>
public static class ConvertCommand
{
    private static readonly Dictionary<string, WeightsFormat> Formats = new(StringComparer.OrdinalIgnoreCase)
    {
        ["safetensors"] = WeightsFormat.SafeTensors,
        ["pth"] = WeightsFormat.PyTorch,
        ["torchsharp"] = WeightsFormat.TorchSharp,
    };

    /// <summary>Most the tensors' bytes may exceed the input file's size by (plus 1 MiB), as a factor.</summary>
    private const int MaxGrowth = 2;

    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var input = new Option<string>("--in") { Description = "The weight file to read (any supported format, detected from its bytes).", Required = true };
        var output = new Option<string>("--out") { Description = "The file to write; its extension picks the format (.safetensors, .pth/.pt, .dat/.bin) unless --format does.", Required = true };
        var format = new Option<string?>("--format") { Description = "Output format, overriding the extension." };
        var prefix = new Option<string?>("--prefix")
        {
            Description = "Write only the network under this key prefix, with the prefix removed (e.g. module.encoder_q. of a MoCo checkpoint, model_ema. of an EMA copy).",
        };
        format.AcceptOnlyFromAmong([.. Formats.Keys]);
        var command = new Command("convert", "Convert weights between torch.save (.pth), safetensors and TorchSharp's format.");
        command.Options.Add(input);
        command.Options.Add(output);
        command.Options.Add(format);
        command.Options.Add(prefix);
        command.SetAction(parseResult => CommandErrors.Run(parseResult, writer =>
            Convert(parseResult.GetValue(input)!, parseResult.GetValue(output)!, parseResult.GetValue(format), parseResult.GetValue(prefix), writer)));
        return command;
    }

    private static int Convert(string from, string to, string? formatName, string? prefix, TextWriter writer)
    {
        var target = formatName is null ? WeightsFile.FormatForExtension(to) : Formats[formatName];
        var content = WeightsFile.Read(from);
        var written = prefix is null ? content : content with { Tensors = WeightsNameMapping.Network(content.Tensors, prefix) };
        var tensors = written.Tensors;
        // Tensors that share one storage (views) are read once but written each on its own: refuse what would write far
        // more than the file holds (2,000 views of one 4 MB storage made 8.4 GB).
        long inputBytes = RegularFile.Check(from, "a weights file"), outputBytes = written.ByteCount;
        if (outputBytes > MaxGrowth * inputBytes + (1 << 20))
            throw new InvalidDataException(
                $"'{PrintableName.Of(Path.GetFullPath(from))}': its {tensors.Count:N0} tensors hold {outputBytes:N0} bytes, {outputBytes / Math.Max(1, inputBytes):N0} times " +
                $"the file's {inputBytes:N0}: they share storage, and every format written here stores each tensor apart. Not converted; " +
                "save the tensors you need without shared views.");
        var metadata = new Dictionary<string, string>(content.Metadata, StringComparer.Ordinal);
        if (ArchitectureDetector.Detect(tensors) is { } match)
        {
            metadata.TryAdd(WeightsMetadata.ArchitectureKey, match.Name);
            metadata.TryAdd(WeightsMetadata.NumClassesKey, match.NumClasses.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        WeightsFile.Write(to, tensors, metadata, target);
        writer.WriteLine($"Wrote {tensors.Count} tensors from {from} ({content.Format}{(prefix is null ? "" : $", under '{prefix}'")}) to {to} ({target}).");
        if (target != WeightsFormat.SafeTensors && metadata.Count > 0)
            writer.WriteLine($"Note: {target} files have no place for metadata; not written: {string.Join(", ", metadata.Keys)}.");
        return 0;
    }
}
