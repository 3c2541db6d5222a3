namespace ResNet.MLNet.Weights;

/// <summary>Where a pretrained weights file comes from.</summary>
public enum PretrainedSource
{
    /// <summary>Downloaded from <see cref="PretrainedWeights.Url"/> into torch hub's cache (or found there).</summary>
    Download,
    /// <summary>
    /// Shipped in the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 (an ONNX graph): found in the application's
    /// output folder when it references that package, else in the NuGet global packages folder.
    /// </summary>
    MLNetPackage,
}

/// <summary>
/// A named set of pretrained weights, described apart from the architecture as torchvision's <c>Weights</c> enums and
/// timm's pretrained configs do: the file and where it comes from, its hash, the <see cref="ImageModelInput"/> it was
/// trained with (preprocessing and class names), its published accuracy, its licence. <see cref="WeightsRegistry"/>
/// lists them; <see cref="WeightsSource.Resolve"/> turns a name into a local file.
/// </summary>
public sealed record PretrainedWeights
{
    /// <summary>timm-style name, <c>architecture.tag</c>: <c>resnet50.tv2_in1k</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Registry name of the architecture (<see cref="Models.ResNetModels.Options(string)"/>).</summary>
    public required string Architecture { get; init; }

    /// <summary>File name in the cache: torchvision's own (<c>resnet50-11ad3fa6.pth</c>), so torch hub's files are shared.</summary>
    public required string FileName { get; init; }

    /// <summary>Download address; null for weights that are not downloaded.</summary>
    public Uri? Url { get; init; }

    /// <summary>
    /// Full SHA-256 of the file (hex), when known; otherwise the file is checked against the hash prefix in its name
    /// (torchvision's convention: <c>resnet50-11ad3fa6.pth</c> starts with SHA-256 11ad3fa6...).
    /// </summary>
    public string? Sha256 { get; init; }

    /// <summary>Where the file comes from. Default <see cref="PretrainedSource.Download"/>.</summary>
    public PretrainedSource Source { get; init; } = PretrainedSource.Download;

    /// <summary>The input the weights were trained with: size, resize and crop, normalization, class names.</summary>
    public required ImageModelInput Input { get; init; }

    /// <summary>Published ImageNet-1k top-1 accuracy in percent (single crop at <see cref="ImageModelInput.ImageSize"/>); null when none is published.</summary>
    public double? Top1 { get; init; }

    /// <summary>Published ImageNet-1k top-5 accuracy in percent; null when none is published.</summary>
    public double? Top5 { get; init; }

    /// <summary>Licence of the weights.</summary>
    public required string License { get; init; }

    /// <summary>Who published the weights and how they were trained.</summary>
    public required string Origin { get; init; }

    /// <summary>Other accepted names: torchvision's (<c>ResNet50_Weights.IMAGENET1K_V2</c>) and <c>resnet50.default</c> for torchvision's DEFAULT.</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>The graph's input is BGR (the importer reverses the first convolution's input channels to RGB).</summary>
    internal bool BgrInput { get; init; }

    /// <summary>Classes of the head: 1000 for ImageNet classifiers, 0 for feature extractors without one.</summary>
    public int NumClasses => Input.ClassNames?.Count ?? 0;

    /// <inheritdoc />
    public override string ToString() => Name;
}
