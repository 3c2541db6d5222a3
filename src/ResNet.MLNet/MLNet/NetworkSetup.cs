using ResNet.MLNet.Models;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet;

/// <summary>A network ready for an estimator: the model, whether the estimator owns it, its input and how its weights were loaded.</summary>
internal sealed record NetworkSetup(ResNetModel Model, bool OwnsModel, ImageModelInput Input, WeightsSource? Weights, LoadingReport? Report)
{
    /// <summary>This setup with its input as ML.NET's image transforms compute it (<see cref="ImageModelInput.ForMLNetTransforms"/>), as an estimator runs it.</summary>
    public NetworkSetup ForMLNetTransforms() => this with { Input = Input.ForMLNetTransforms() };

    /// <summary>
    /// Resolves the weights (a registry name or a file), the architecture (the one asked, else the weights', else
    /// <paramref name="defaultArchitecture"/>) and the input (the one given, else the weights', else
    /// <paramref name="defaultInput"/> for the chosen network or ImageNet's normalization at 224 pixels, with <paramref name="imageSize"/> overriding
    /// its size), then builds the network with <paramref name="numClasses"/> classes (null: the weights' class count, else
    /// the architecture's) seeded by <paramref name="seed"/>, or adopts <paramref name="given"/>, and loads the weights into it.
    /// </summary>
    /// <exception cref="ArgumentException">The weights belong to another architecture than the one asked (both named; not checked for a partial load), no architecture is known, or an option is invalid.</exception>
    public static NetworkSetup Create(ResNetOptions? architecture, ResNetModel? given, string? weightsPath, ImageModelInput? input, int? imageSize,
        int? numClasses, long seed, ResNetOptions? defaultArchitecture = null, Func<ResNetOptions, ImageModelInput>? defaultInput = null, WeightsLoadOptions? loadOptions = null,
        WeightsResolveOptions? resolve = null)
    {
        var weights = weightsPath is null ? null : WeightsSource.Resolve(weightsPath, resolve);
        var network = given?.Options ?? architecture ?? (weights?.Architecture is { } named ? ResNetModels.Options(named) : null)
            ?? (weights?.ExactMatches is { Count: > 1 } several
                ? throw new ArgumentException($"The weights '{weights.DisplayName}' fit {string.Join(" and ", several)} exactly: name the architecture.", nameof(architecture))
                : defaultArchitecture)
            ?? throw new ArgumentException("No architecture: name one, or give weights that record theirs (a registry name or a file written by this toolkit).", nameof(architecture));
        // A partial load (Strict = false) may put weights into another architecture on purpose.
        if (given is null && loadOptions is not { Strict: false } && weights?.Architecture is { } weightsArchitecture && SameArchitecture(weightsArchitecture, network) == false)
            throw new ArgumentException(
                $"The weights '{weights.DisplayName}' are for {weightsArchitecture}, but the network is {network.Name}. " +
                "Choose weights of that architecture, or leave the architecture unset to build the weights' own.", nameof(architecture));

        var chosen = (input ?? weights?.Input ?? defaultInput?.Invoke(network) ?? new ImageModelInput()).WithImageSize(imageSize);
        chosen = chosen.WithChannels(given?.Options.InChannels ?? chosen.Channels);
        chosen.Validate();
        if (given is not null)
            return new NetworkSetup(given, false, chosen, weights, Load(given, weights, loadOptions));

        int classes = numClasses ?? weights?.Content.NumClassesFor(network.NumFeatures) ?? network.NumClasses;
        var model = ResNetModels.Build(network with { NumClasses = classes, InChannels = chosen.Channels }, seed);
        try
        {
            return new NetworkSetup(model, true, chosen, weights, Load(model, weights, loadOptions));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static LoadingReport? Load(ResNetModel model, WeightsSource? weights, WeightsLoadOptions? options) =>
        weights is null ? null : WeightsLoader.Load(model, weights.Content.Tensors, options, weights.DisplayName);

    /// <summary>Whether a weights' architecture name is the network's; null when the name is not one the zoo knows.</summary>
    private static bool? SameArchitecture(string weightsArchitecture, ResNetOptions network)
    {
        try
        {
            return ResNetModels.Options(weightsArchitecture).Name == network.Name;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
