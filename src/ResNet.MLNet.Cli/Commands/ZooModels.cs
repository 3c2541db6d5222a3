using ResNet.MLNet.Models;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Cli.Commands;

/// <summary>Builds a network of the zoo for a command: by name, with the head sized from a weight file unless told.</summary>
internal static class ZooModels
{
    /// <summary>Reads a weight file, saying which file is missing.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    public static WeightsFileContent ReadWeights(string path) =>
        File.Exists(path) ? WeightsFile.Read(path) : throw new FileNotFoundException($"Weights file '{Path.GetFullPath(path)}' does not exist.", path);

    /// <summary>
    /// The options of architecture <paramref name="arch"/> with <paramref name="numClasses"/> classes, or else the weight
    /// file's (the rows of its <c>fc.weight</c>), or else the architecture's default.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown architecture (the message lists the valid names) or invalid options.</exception>
    public static ResNetOptions Options(string arch, WeightsFileContent? weights, int? numClasses)
    {
        var options = ResNetModels.Options(arch);
        options = options with { NumClasses = numClasses ?? weights?.NumClassesFor(options.NumFeatures) ?? options.NumClasses };
        options.Validate();
        return options;
    }

    /// <summary>Builds the network and, when <paramref name="weightsPath"/> is given, loads it with <paramref name="loadOptions"/>.</summary>
    /// <exception cref="WeightsMismatchException">A strict load found keys or shapes that do not fit; the message is the loading report.</exception>
    public static (Models.ResNet Model, LoadingReport? Report) Build(string arch, string? weightsPath, int? numClasses, WeightsLoadOptions loadOptions)
    {
        var weights = weightsPath is null ? null : ReadWeights(weightsPath);
        return Build(Options(arch, weights, numClasses), weights, weightsPath, loadOptions);
    }

    /// <summary>Builds the network and, when <paramref name="weights"/> (read from <paramref name="source"/>) are given, loads them.</summary>
    /// <exception cref="WeightsMismatchException">A strict load found keys or shapes that do not fit; the message is the loading report.</exception>
    public static (Models.ResNet Model, LoadingReport? Report) Build(ResNetOptions options, WeightsFileContent? weights, string? source, WeightsLoadOptions loadOptions)
    {
        var model = new Models.ResNet(options);
        try
        {
            return (model, weights is null ? null : WeightsLoader.Load(model, weights.Tensors, loadOptions, source!));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
