namespace ResNet.MLNet.Weights;

/// <summary>How <see cref="WeightsSource.Resolve"/> finds or fetches pretrained weights.</summary>
public sealed record WeightsResolveOptions
{
    /// <summary>Folder of downloaded weights. Default null: torch hub's (<c>$TORCH_HOME/hub/checkpoints</c>, <c>~/.cache/torch/hub/checkpoints</c>).</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Progress of a download, when one is needed. Default null.</summary>
    public IProgress<WeightsDownloadProgress>? Progress { get; init; }

    /// <summary>Cancels a download. Default none.</summary>
    public CancellationToken CancellationToken { get; init; }
}

/// <summary>
/// Weights ready to load: a local file, and the registry entry it was named by (if any). Weights options throughout
/// the toolkit (<c>WeightsPath</c>, <c>--weights</c>) take a file path or a registry name; this is what they become.
/// Choosing weights brings their <see cref="Input"/> (preprocessing and class names) and <see cref="Architecture"/>.
/// </summary>
public sealed class WeightsSource
{
    private WeightsFileContent? content;

    private WeightsSource(string path, PretrainedWeights? pretrained)
    {
        Path = path;
        Pretrained = pretrained;
    }

    /// <summary>The local file.</summary>
    public string Path { get; }

    /// <summary>The registry entry the weights were named by; null for a file given by path.</summary>
    public PretrainedWeights? Pretrained { get; }

    /// <summary>How the weights are named in messages and reports: the registry name, or the file path.</summary>
    public string DisplayName => Pretrained?.Name ?? Path;

    /// <summary>The file's tensors and metadata, read once (ONNX graphs are imported into torchvision's layout).</summary>
    /// <exception cref="InvalidDataException">The file is malformed; the message names it.</exception>
    public WeightsFileContent Content => content ??= Pretrained is { BgrInput: true }
        ? OnnxWeightsImporter.Read(Path, new OnnxImportOptions { ReverseInputChannels = true })
        : WeightsFile.Read(Path);

    /// <summary>What this toolkit recorded in the file's metadata (empty for files from elsewhere).</summary>
    public WeightsMetadata Metadata => WeightsMetadata.FromDictionary(Content.Metadata);

    /// <summary>
    /// The input the weights expect: the registry entry's, else the one recorded in the file's metadata, else null
    /// (files from elsewhere: the caller's default applies).
    /// </summary>
    public ImageModelInput? Input => input ??= Pretrained is { Source: PretrainedSource.MLNetPackage } entry
        ? entry.Input with { MeanImage = MLNetMeanImage(Path, entry.Input) }
        : Pretrained?.Input ?? Metadata.Input;

    private ImageModelInput? input;

    /// <summary>
    /// The architecture the weights belong to: the registry entry's, else the file's metadata, else the one zoo
    /// architecture whose keys and shapes the tensors match exactly (a torchvision or timm checkpoint given by path),
    /// else null (none, or several: see <see cref="ExactMatches"/>).
    /// </summary>
    /// <exception cref="InvalidDataException">The file holds several networks (see <see cref="WeightsLoadOptions.KeyPrefix"/>).</exception>
    public string? Architecture => Pretrained?.Architecture ?? Metadata.Architecture ?? (ExactMatches is [var only] ? only : null);

    /// <summary>
    /// The zoo architectures whose keys and shapes the tensors match exactly (<see cref="ArchitectureDetector.Rank"/>):
    /// several when they differ only where no weights are (CIFAR ResNet-20's parameter-free shortcuts and plain-20).
    /// </summary>
    internal IReadOnlyList<string> ExactMatches => exactMatches ??= ArchitectureDetector.Rank(Content.Tensors).Where(m => m.IsExact).Select(m => m.Name).ToList();

    private IReadOnlyList<string>? exactMatches;

    /// <summary>
    /// A file path, or a registry name (<see cref="WeightsRegistry"/>): an existing file wins; a name is looked up in torch
    /// hub's cache (and downloaded when missing, unless offline) or, for <c>resnet18.mlnet_in1k</c>, in the ML.NET package.
    /// </summary>
    /// <exception cref="FileNotFoundException">A path that does not exist and is no registry name, or a file that cannot be found offline; the message says where to put it.</exception>
    /// <exception cref="ArgumentException">A name that looks like a registry name but is none; the message lists the closest names.</exception>
    public static WeightsSource Resolve(string pathOrName, WeightsResolveOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pathOrName);
        options ??= new WeightsResolveOptions();
        if (File.Exists(pathOrName))
            return new WeightsSource(pathOrName, null);
        if (WeightsRegistry.Find(pathOrName) is { } entry)
            return new WeightsSource(Locate(entry, options), entry);
        if (WeightsRegistry.LooksLikeName(pathOrName))
            throw new ArgumentException(
                $"'{pathOrName}' is neither a file nor a known pretrained weights name. Closest names: {string.Join(", ", WeightsRegistry.Closest(pathOrName, 4))} ('resnet-mlnet weights list' shows all).",
                nameof(pathOrName));
        throw new FileNotFoundException($"Weights file '{System.IO.Path.GetFullPath(pathOrName)}' does not exist.", pathOrName);
    }

    /// <summary>The local file of a registry entry, downloading it when needed.</summary>
    private static string Locate(PretrainedWeights entry, WeightsResolveOptions options)
    {
        string cache = options.CacheDirectory ?? WeightsCache.Directory;
        string cached = System.IO.Path.Combine(cache, entry.FileName);
        if (File.Exists(cached))
            return cached;
        if (entry.Source == PretrainedSource.MLNetPackage)
            return FindInMLNetPackage(entry, cached);
        return WeightsDownloader.Shared.Download(entry.Url!.ToString(),
            new WeightsDownloadOptions { CacheDirectory = cache, FileName = entry.FileName, Sha256 = entry.Sha256, Progress = options.Progress },
            options.CancellationToken);
    }

    private const string MLNetPackageId = "Microsoft.ML.DnnImageFeaturizer.ResNet18";

    /// <summary>
    /// ML.NET's mean image, from the preprocessing graph the package ships beside the network
    /// (<c>ResNetPrepOnnx/ResNetPreprocess.onnx</c>: BGR, 0–255, 224 x 224), as RGB in [0, 1]; null when that file is not
    /// there (a copy of the network alone): the per-channel means then stand in, which moves the features slightly
    /// (cosine about 0.997 to ML.NET's instead of 1).
    /// </summary>
    private static float[]? MLNetMeanImage(string networkPath, ImageModelInput input)
    {
        string? folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(networkPath)));
        string prep = System.IO.Path.Combine(folder ?? "", "ResNetPrepOnnx", "ResNetPreprocess.onnx");
        if (!File.Exists(prep))
            return null;
        var (values, dims) = Onnx.OnnxModelReader.ReadInitializer(prep, "MeanImage");
        int plane = input.ImageSize * input.ImageSize;
        if (!dims.SequenceEqual([1L, 3, input.ImageSize, input.ImageSize]))
            throw new InvalidDataException($"{prep}: MeanImage has shape [{string.Join(", ", dims)}]; expected [1, 3, {input.ImageSize}, {input.ImageSize}].");
        var rgb = new float[3 * plane];
        for (int c = 0; c < 3; c++)
        {
            for (int i = 0; i < plane; i++)
                rgb[c * plane + i] = values[(2 - c) * plane + i] / 255f; // BGR planes to RGB
        }
        return rgb;
    }
    private const string MLNetFile = "DnnImageModels/ResNet18Onnx/ResNet18.onnx";

    /// <summary>
    /// ML.NET's ResNet18.onnx: next to the application (the package copies DnnImageModels/ to the output folder), else in
    /// the NuGet global packages folder, newest version first; the file must have the registry's SHA-256.
    /// </summary>
    private static string FindInMLNetPackage(PretrainedWeights entry, string cached)
    {
        foreach (string candidate in MLNetCandidates())
        {
            if (File.Exists(candidate) && HashMatches(candidate, entry.Sha256!))
                return candidate;
        }
        throw new FileNotFoundException(
            $"{entry.Name} comes from the NuGet package {MLNetPackageId}, which was found neither next to the application nor in the NuGet packages folder. " +
            $"Add it to your project (dotnet add package {MLNetPackageId} --version 0.24.0, or 0.23.1 with ML.NET 5), " +
            $"or copy its tools/{MLNetFile} to '{cached}'.", cached);
    }

    private static IEnumerable<string> MLNetCandidates()
    {
        yield return System.IO.Path.Combine(AppContext.BaseDirectory, MLNetFile);
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } env
            ? env
            : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string root = System.IO.Path.Combine(packages, MLNetPackageId.ToLowerInvariant());
        if (!Directory.Exists(root))
            yield break;
        foreach (string version in Directory.EnumerateDirectories(root).OrderByDescending(d => Version.TryParse(System.IO.Path.GetFileName(d), out var v) ? v : new Version()))
            yield return System.IO.Path.Combine(version, "tools", MLNetFile);
    }

    private static readonly Dictionary<string, bool> Verified = new(StringComparer.Ordinal);

    /// <summary>Whether a package file has the registry's hash, computed once per process and path.</summary>
    private static bool HashMatches(string path, string sha256)
    {
        lock (Verified)
        {
            if (!Verified.TryGetValue(path, out bool ok))
                Verified[path] = ok = WeightsHash.Matches(WeightsHash.ComputeSha256(path), sha256);
            return ok;
        }
    }
}
