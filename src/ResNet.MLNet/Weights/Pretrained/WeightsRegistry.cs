namespace ResNet.MLNet.Weights;

/// <summary>
/// Every pretrained weight set the toolkit knows by name: each ResNet weight torchvision publishes (ImageNet-1k,
/// <c>tv_in1k</c> for its original recipe, <c>tv2_in1k</c> for the new one) and ML.NET's own ImageNet ResNet-18
/// (<c>resnet18.mlnet_in1k</c>, available offline through NuGet). Names follow timm's <c>architecture.tag</c> and are
/// case-insensitive; torchvision's names (<c>ResNet50_Weights.IMAGENET1K_V2</c>) and <c>architecture.default</c>
/// (torchvision's DEFAULT) are aliases.
/// </summary>
public static partial class WeightsRegistry
{
    private const string TorchvisionLicense = "BSD-3-Clause (torchvision); trained on ImageNet-1k, whose terms restrict use to non-commercial research";
    private const string TorchvisionV1 = "torchvision: the original training recipe (https://github.com/pytorch/vision/tree/main/references/classification#resnet)";
    private const string TorchvisionV2 = "torchvision: the new training recipe (https://github.com/pytorch/vision/issues/3995)";

    /// <summary>The 1000 ImageNet-1k class names in class-index order, as torchvision publishes them with its weights.</summary>
    public static IReadOnlyList<string> ImageNetClasses { get; } = ReadImageNetClasses();

    /// <summary>
    /// ML.NET's ImageNet-trained "ResNet-18" (CNTK 2.6 export, features only), whose last stage has three blocks
    /// (<c>mlnet_resnet18</c>, [2, 2, 2, 3]). Its graph takes BGR pixels in 0–255 minus a mean image whose channel means
    /// are B 103.0626, G 115.9029, R 123.1516 (ResNetPreprocess.onnx); in this toolkit's terms, RGB in [0, 1] with mean
    /// m/255 and std 1/255, after ML.NET's ResizeImages to 224x224.
    /// </summary>
    internal static PretrainedWeights MLNetResNet18 { get; } = new() // before All, which lists it
    {
        Name = "resnet18.mlnet_in1k",
        Architecture = "mlnet_resnet18",
        FileName = "mlnet_resnet18-e2552f19.onnx",
        Sha256 = "e2552f19db2dfdb01b3669537b6a0f1b44da38d18279535492ed5dfc2ef1ff8f",
        Source = PretrainedSource.MLNetPackage,
        BgrInput = true,
        Input = new ImageModelInput
        {
            ImageSize = 224,
            Interpolation = ImageInterpolation.MLNet,
            Mean = [123.15163f / 255, 115.902885f / 255, 103.06262f / 255],
            Std = [1f / 255, 1f / 255, 1f / 255],
        },
        License = "MIT (ML.NET)",
        Origin = "ML.NET: the ImageNet-trained ResNet-18 of the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 (DnnFeaturizeImage), a pooled 512-wide feature extractor without a classifier",
        Aliases = ["mlnet_resnet18.in1k", "DnnImageFeaturizer.ResNet18"],
    };

    /// <summary>Every entry, in a stable order (by architecture, then tag).</summary>
    public static IReadOnlyList<PretrainedWeights> All { get; } = Build();

    /// <summary>The entry named <paramref name="name"/> (or one of its aliases), case-insensitively; null when there is none.</summary>
    public static PretrainedWeights? Find(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
            return null;
        string key = name.Trim();
        return All.FirstOrDefault(w => string.Equals(w.Name, key, StringComparison.OrdinalIgnoreCase)
                                       || w.Aliases.Any(a => string.Equals(a, key, StringComparison.OrdinalIgnoreCase)));
    }

    /// <summary>The entry named <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No entry has that name; the message lists the closest names.</exception>
    public static PretrainedWeights Get(string name) =>
        Find(name) ?? throw new ArgumentException(
            $"Unknown pretrained weights '{name}'. Closest names: {string.Join(", ", Closest(name, 4))} ('resnet-mlnet weights list' shows all {All.Count}).", nameof(name));

    /// <summary>
    /// Whether <paramref name="value"/> looks like a registry name rather than a file path: no directory separator and no
    /// weight-file extension. Used to tell a mistyped name (fails with the closest names) from a missing file.
    /// </summary>
    public static bool LooksLikeName(string value) =>
        !string.IsNullOrWhiteSpace(value) && value.IndexOfAny(['/', '\\']) < 0
        && !new[] { ".pth", ".pt", ".bin", ".dat", ".safetensors", ".onnx", ".ckpt" }.Any(e => value.EndsWith(e, StringComparison.OrdinalIgnoreCase));

    /// <summary>The <paramref name="count"/> names (and aliases) closest to <paramref name="name"/> by edit distance.</summary>
    public static IReadOnlyList<string> Closest(string name, int count)
    {
        string key = (name ?? "").Trim().ToLowerInvariant();
        return All.SelectMany(w => w.Aliases.Prepend(w.Name))
            .Select(candidate => (candidate, distance: EditDistance(key, candidate.ToLowerInvariant())))
            .OrderBy(c => c.distance).ThenBy(c => c.candidate, StringComparer.Ordinal)
            .Select(c => c.candidate).Distinct().Take(count).ToList();
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
            previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    private static List<PretrainedWeights> Build()
    {
        var imageNetV1 = ImageModelInput.ImageNet with { ClassNames = ImageNetClasses };
        var imageNetV2 = imageNetV1 with { ResizeSize = 232 };
        // (architecture, torchvision enum, file of V1 or null, top1/top5 of V1, file of V2 or null, top1/top5 of V2): torchvision 0.14's resnet.py.
        var torchvision = new (string Arch, string Enum, string? V1, double Top1V1, double Top5V1, string? V2, double Top1V2, double Top5V2)[]
        {
            ("resnet18", "ResNet18_Weights", "resnet18-f37072fd.pth", 69.758, 89.078, null, 0, 0),
            ("resnet34", "ResNet34_Weights", "resnet34-b627a593.pth", 73.314, 91.420, null, 0, 0),
            ("resnet50", "ResNet50_Weights", "resnet50-0676ba61.pth", 76.130, 92.862, "resnet50-11ad3fa6.pth", 80.858, 95.434),
            ("resnet101", "ResNet101_Weights", "resnet101-63fe2227.pth", 77.374, 93.546, "resnet101-cd907fc2.pth", 81.886, 95.780),
            ("resnet152", "ResNet152_Weights", "resnet152-394f9c45.pth", 78.312, 94.046, "resnet152-f82ba261.pth", 82.284, 96.002),
            ("resnext50_32x4d", "ResNeXt50_32X4D_Weights", "resnext50_32x4d-7cdf4587.pth", 77.618, 93.698, "resnext50_32x4d-1a0047aa.pth", 81.198, 95.340),
            ("resnext101_32x8d", "ResNeXt101_32X8D_Weights", "resnext101_32x8d-8ba56ff5.pth", 79.312, 94.526, "resnext101_32x8d-110c445d.pth", 82.834, 96.228),
            // torchvision publishes resnext101_64x4d with the new recipe only, as its IMAGENET1K_V1.
            ("resnext101_64x4d", "ResNeXt101_64X4D_Weights", null, 0, 0, "resnext101_64x4d-173b62eb.pth", 83.246, 96.454),
            ("wide_resnet50_2", "Wide_ResNet50_2_Weights", "wide_resnet50_2-95faca4d.pth", 78.468, 94.086, "wide_resnet50_2-9ba9bcbe.pth", 81.602, 95.758),
            ("wide_resnet101_2", "Wide_ResNet101_2_Weights", "wide_resnet101_2-32ee1156.pth", 78.848, 94.284, "wide_resnet101_2-d733dc28.pth", 82.510, 96.020),
        };
        var entries = new List<PretrainedWeights>();
        foreach (var t in torchvision)
        {
            // DEFAULT is the newest: V2 where it exists.
            if (t.V1 is { } v1)
                entries.Add(Torchvision(t.Arch, "tv_in1k", v1, imageNetV1, t.Top1V1, t.Top5V1, TorchvisionV1,
                    [$"{t.Enum}.IMAGENET1K_V1", .. t.V2 is null ? new[] { $"{t.Arch}.default", $"{t.Enum}.DEFAULT" } : []]));
            if (t.V2 is { } v2)
                entries.Add(Torchvision(t.Arch, "tv2_in1k", v2, imageNetV2, t.Top1V2, t.Top5V2, TorchvisionV2,
                    [$"{t.Enum}.{(t.V1 is null ? "IMAGENET1K_V1" : "IMAGENET1K_V2")}", $"{t.Arch}.default", $"{t.Enum}.DEFAULT"]));
        }
        entries.Add(MLNetResNet18);
        return entries.OrderBy(e => e.Architecture, StringComparer.Ordinal).ThenBy(e => e.Name, StringComparer.Ordinal).ToList();
    }

    private static PretrainedWeights Torchvision(string arch, string tag, string file, ImageModelInput input, double top1, double top5, string origin, string[] aliases) => new()
    {
        Name = $"{arch}.{tag}",
        Architecture = arch,
        FileName = file,
        Url = new Uri($"https://download.pytorch.org/models/{file}"),
        Input = input,
        Top1 = top1,
        Top5 = top5,
        License = TorchvisionLicense,
        Origin = origin,
        Aliases = aliases,
    };

    private static IReadOnlyList<string> ReadImageNetClasses()
    {
        using var stream = typeof(WeightsRegistry).Assembly.GetManifestResourceStream("ResNet.MLNet.Weights.imagenet_classes.txt")
            ?? throw new InvalidOperationException("The ImageNet class names resource is missing from the ResNet.MLNet assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).ToArray();
    }
}
