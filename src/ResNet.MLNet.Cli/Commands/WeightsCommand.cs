using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ResNet.MLNet.Weights;
using Spectre.Console;

namespace ResNet.MLNet.Cli.Commands;

/// <summary><c>resnet-mlnet weights list|info|download|verify</c>: the pretrained weights registry and torch hub's cache.</summary>
internal static class WeightsCommand
{
    public static Command Create()
    {
        var command = new Command("weights", "Pretrained weights by name: list them, describe one, download into torch hub's cache, verify cached files.");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Info());
        command.Subcommands.Add(Download());
        command.Subcommands.Add(Verify());
        return command;
    }

    private static Command List()
    {
        var json = new Option<bool>("--json") { Description = "Print a JSON array instead of a table." };
        var command = new Command("list", "Every pretrained weight set: name, architecture, ImageNet accuracy, input size, and whether it is available here.") { json };
        command.SetAction(parse => CliOutput.Guard(parse, () =>
        {
            string cache = WeightsCache.Directory;
            if (parse.GetValue(json))
            {
                var rows = WeightsRegistry.All.Select(w => Describe(w, cache));
                parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(rows, CliOutput.Json));
                return 0;
            }
            var table = new Table().Title("pretrained weights").Border(TableBorder.Simple);
            foreach (string column in new[] { "name", "acc@1", "acc@5", "crop (resize)", "classes", "here" })
                table.AddColumn(new TableColumn(column).NoWrap());
            foreach (var w in WeightsRegistry.All)
            {
                table.AddRow(Markup.Escape(w.Name), Percent(w.Top1), Percent(w.Top5),
                    string.Create(CultureInfo.InvariantCulture, $"{w.Input.ImageSize} ({w.Input.ScaledSize})"),
                    w.NumClasses == 0 ? "features" : w.NumClasses.ToString(CultureInfo.InvariantCulture),
                    Available(w, cache) is null ? "-" : "yes");
            }
            var console = CliOutput.Console(parse);
            console.Write(table);
            console.WriteLine($"cache: {cache}");
            return 0;
        }));
        return command;
    }

    private static Command Info()
    {
        var name = new Argument<string>("name") { Description = "A weights name (see 'weights list'); torchvision's names such as ResNet50_Weights.IMAGENET1K_V2 work too." };
        var command = new Command("info", "Everything the registry knows about one weight set, as JSON.") { name };
        command.SetAction(parse => CliOutput.Guard(parse, () =>
        {
            var w = WeightsRegistry.Get(parse.GetValue(name)!);
            parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(Describe(w, WeightsCache.Directory, details: true), CliOutput.Json));
            return 0;
        }));
        return command;
    }

    private static Command Download()
    {
        var names = new Argument<string[]>("names") { Description = "Weights names (see 'weights list').", Arity = ArgumentArity.OneOrMore };
        var command = new Command("download", "Fetch weights into torch hub's cache (RESNET_MLNET_WEIGHTS_MIRROR replaces the server; RESNET_MLNET_OFFLINE=1 forbids the network).") { names };
        command.SetAction(parse => CliOutput.Guard(parse, () =>
        {
            var entries = parse.GetValue(names)!.Select(WeightsRegistry.Get).ToList(); // every name checked before any download
            foreach (var w in entries)
            {
                var source = WeightsSource.Resolve(w.Name, ZooModels.Resolve(parse.InvocationConfiguration.Error));
                parse.InvocationConfiguration.Output.WriteLine($"{w.Name}: {source.Path}");
            }
            return 0;
        }));
        return command;
    }

    private static Command Verify()
    {
        var names = new Argument<string[]>("names") { Description = "Weights names; default: every weight set found without network.", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("verify", "Check the SHA-256 of cached weight files against the registry (torchvision's hash prefix, or the full hash).") { names };
        command.SetAction(parse => CliOutput.Guard(parse, () =>
        {
            var given = parse.GetValue(names) ?? [];
            var entries = given.Length > 0 ? given.Select(WeightsRegistry.Get).ToList() : WeightsRegistry.All.ToList();
            string cache = WeightsCache.Directory;
            var output = parse.InvocationConfiguration.Output;
            int checkedCount = 0, bad = 0;
            foreach (var w in entries)
            {
                if (Available(w, cache) is not { } path)
                {
                    if (given.Length > 0)
                        throw new FileNotFoundException($"{w.Name} is not available here: '{Path.Combine(cache, w.FileName)}' does not exist; run 'resnet-mlnet weights download {w.Name}'.");
                    continue;
                }
                checkedCount++;
                string actual = WeightsHash.ComputeSha256(path);
                bool ok = WeightsHash.Matches(actual, w.Sha256 ?? WeightsHash.FromFileName(w.FileName)!);
                bad += ok ? 0 : 1;
                output.WriteLine($"{(ok ? "ok" : "MISMATCH")}  {w.Name}  {path}  sha256 {actual}");
            }
            output.WriteLine($"{checkedCount} checked, {bad} mismatched");
            return bad == 0 ? 0 : 1;
        }));
        return command;
    }

    private static object Describe(PretrainedWeights w, string cache, bool details = false) => new
    {
        name = w.Name,
        architecture = w.Architecture,
        aliases = w.Aliases,
        file_name = w.FileName,
        url = w.Url?.ToString(),
        sha256 = w.Sha256,
        source = w.Source == PretrainedSource.Download ? "download" : "mlnet_package",
        top1 = w.Top1,
        top5 = w.Top5,
        num_classes = w.NumClasses,
        input = new
        {
            channels = w.Input.Channels,
            image_size = w.Input.ImageSize,
            resize_size = w.Input.ScaledSize,
            resize_mode = w.Input.ResizeMode == ImageResizeMode.CenterCrop ? "center_crop" : "stretch",
            interpolation = w.Input.Interpolation == ImageInterpolation.Bilinear ? "bilinear" : "mlnet",
            mean = w.Input.Mean,
            std = w.Input.Std,
        },
        license = w.License,
        origin = w.Origin,
        available = Available(w, cache),
        class_names = details ? w.Input.ClassNames : null,
    };

    /// <summary>Where the file is found without network, or null.</summary>
    private static string? Available(PretrainedWeights w, string cache)
    {
        try
        {
            string cached = Path.Combine(cache, w.FileName);
            if (File.Exists(cached))
                return cached;
            return w.Source == PretrainedSource.MLNetPackage ? WeightsSource.Resolve(w.Name).Path : null;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private static string Percent(double? value) => value is double v ? v.ToString("F2", CultureInfo.InvariantCulture) : "-";
}
