using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace ResNet.MLNet.Models;

/// <summary>One-line builders for every network of the zoo, and lookup by name.</summary>
public static partial class ResNetModels
{
    private static readonly ResNetOptions ImageNetBasic = new() { Block = BlockKind.Basic };
    private static readonly ResNetOptions ImageNetBottleneck = new() { Block = BlockKind.Bottleneck };

    /// <summary>torchvision resnet18.</summary>
    public static ResNetModel ResNet18(int numClasses = 1000, int inChannels = 3) => Build(ResNetArchitecture.ResNet18, numClasses, inChannels);
    /// <summary>torchvision resnet34.</summary>
    public static ResNetModel ResNet34(int numClasses = 1000, int inChannels = 3) => Build(ResNetArchitecture.ResNet34, numClasses, inChannels);
    /// <summary>torchvision resnet50.</summary>
    public static ResNetModel ResNet50(int numClasses = 1000, int inChannels = 3) => Build(ResNetArchitecture.ResNet50, numClasses, inChannels);
    /// <summary>torchvision resnet101.</summary>
    public static ResNetModel ResNet101(int numClasses = 1000, int inChannels = 3) => Build(ResNetArchitecture.ResNet101, numClasses, inChannels);
    /// <summary>torchvision resnet152.</summary>
    public static ResNetModel ResNet152(int numClasses = 1000, int inChannels = 3) => Build(ResNetArchitecture.ResNet152, numClasses, inChannels);

    /// <summary>The paper's CIFAR ResNet of depth 6n+2 (20, 32, 44, 56, 110, ...), 16/32/64 channels.</summary>
    /// <param name="depth">Total depth, 6n+2 with n at least 1.</param>
    /// <param name="numClasses">Classes of the head. Default 10.</param>
    /// <param name="shortcut">Option A (<see cref="ShortcutKind.ZeroPad"/>, the paper's CIFAR choice), B, or none for a plain net.</param>
    /// <param name="inChannels">Input channels. Default 3.</param>
    public static ResNetModel CifarResNet(int depth, int numClasses = 10, ShortcutKind shortcut = ShortcutKind.ZeroPad, int inChannels = 3) =>
        new(CifarOptions(depth, shortcut) with { NumClasses = numClasses, InChannels = inChannels });

    /// <summary>The registry name of an architecture: torchvision's where it has one (<c>resnet50</c>), else timm-like.</summary>
    public static string Name(ResNetArchitecture architecture) => architecture switch
    {
        ResNetArchitecture.WideResNet50_2 => "wide_resnet50_2",
        ResNetArchitecture.ResNeXt50_32x4d => "resnext50_32x4d",
        ResNetArchitecture.ResNeXt101_32x8d => "resnext101_32x8d",
        ResNetArchitecture.ResNeXt101_64x4d => "resnext101_64x4d",
        ResNetArchitecture.WideResNet101_2 => "wide_resnet101_2",
        ResNetArchitecture.MLNetResNet18 => "mlnet_resnet18",
        ResNetArchitecture.SeResNet50 => "seresnet50",
        ResNetArchitecture.PreActResNet18 => "preact_resnet18",
        ResNetArchitecture.PreActResNet50 => "preact_resnet50",
        ResNetArchitecture.CifarResNet20 or ResNetArchitecture.CifarResNet32 or ResNetArchitecture.CifarResNet44
            or ResNetArchitecture.CifarResNet56 or ResNetArchitecture.CifarResNet110
            or ResNetArchitecture.CifarPlain20 or ResNetArchitecture.CifarPlain56
            => "cifar_" + architecture.ToString()["Cifar".Length..].ToLowerInvariant(),
        _ => architecture.ToString().ToLowerInvariant(), // resnet18 ... resnet152, plain18, plain34
    };

    /// <summary>Every registry name, in the order of <see cref="ResNetArchitecture"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = Enum.GetValues<ResNetArchitecture>().Select(Name).ToArray();

    /// <summary>
    /// Parses a registry name (case-insensitive, ignoring <c>-</c> and <c>_</c>), the enum name, or <c>cifar_resnetN</c> / <c>cifar_plainN</c> for any
    /// depth N = 6n+2.
    /// </summary>
    /// <exception cref="ArgumentException">The name is unknown; the message lists the valid names.</exception>
    public static ResNetOptions Options(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        string key = Normalize(name);
        foreach (var architecture in Enum.GetValues<ResNetArchitecture>())
        {
            if (key == Normalize(Name(architecture)) || key == Normalize(architecture.ToString()))
                return Options(architecture);
        }
        var cifar = CifarName().Match(key);
        if (cifar.Success)
            return CifarOptions(int.Parse(cifar.Groups[2].Value), cifar.Groups[1].Value == "plain" ? ShortcutKind.None : ShortcutKind.ZeroPad);
        throw new ArgumentException(
            $"Unknown architecture '{name}'. Valid names: {string.Join(", ", Names)}, and cifar_resnetN / cifar_plainN for any depth N = 6n+2.", nameof(name));
    }

    /// <summary>The options of a named architecture with 1000 classes (10 for CIFAR nets) and 3 input channels.</summary>
    public static ResNetOptions Options(ResNetArchitecture architecture)
    {
        string name = Name(architecture);
        return architecture switch
        {
            ResNetArchitecture.ResNet18 => ImageNetBasic with { Name = name, Layers = [2, 2, 2, 2] },
            ResNetArchitecture.ResNet34 => ImageNetBasic with { Name = name, Layers = [3, 4, 6, 3] },
            ResNetArchitecture.ResNet50 => ImageNetBottleneck with { Name = name, Layers = [3, 4, 6, 3] },
            ResNetArchitecture.ResNet101 => ImageNetBottleneck with { Name = name, Layers = [3, 4, 23, 3] },
            ResNetArchitecture.ResNet152 => ImageNetBottleneck with { Name = name, Layers = [3, 8, 36, 3] },
            ResNetArchitecture.WideResNet50_2 => ImageNetBottleneck with { Name = name, Layers = [3, 4, 6, 3], WidthPerGroup = 128 },
            ResNetArchitecture.ResNeXt50_32x4d => ImageNetBottleneck with { Name = name, Layers = [3, 4, 6, 3], Groups = 32, WidthPerGroup = 4 },
            ResNetArchitecture.ResNeXt101_32x8d => ImageNetBottleneck with { Name = name, Layers = [3, 4, 23, 3], Groups = 32, WidthPerGroup = 8 },
            ResNetArchitecture.ResNeXt101_64x4d => ImageNetBottleneck with { Name = name, Layers = [3, 4, 23, 3], Groups = 64, WidthPerGroup = 4 },
            ResNetArchitecture.WideResNet101_2 => ImageNetBottleneck with { Name = name, Layers = [3, 4, 23, 3], WidthPerGroup = 128 },
            ResNetArchitecture.MLNetResNet18 => ImageNetBasic with { Name = name, Layers = [2, 2, 2, 3] },
            ResNetArchitecture.SeResNet50 => ImageNetBottleneck with { Name = name, Layers = [3, 4, 6, 3], SqueezeExcitation = true },
            ResNetArchitecture.PreActResNet18 => ImageNetBasic with { Name = name, Layers = [2, 2, 2, 2], PreActivation = true },
            ResNetArchitecture.PreActResNet50 => ImageNetBottleneck with { Name = name, Layers = [3, 4, 6, 3], PreActivation = true },
            ResNetArchitecture.Plain18 => ImageNetBasic with { Name = name, Layers = [2, 2, 2, 2], Shortcut = ShortcutKind.None },
            ResNetArchitecture.Plain34 => ImageNetBasic with { Name = name, Layers = [3, 4, 6, 3], Shortcut = ShortcutKind.None },
            ResNetArchitecture.CifarResNet20 => CifarOptions(20, ShortcutKind.ZeroPad),
            ResNetArchitecture.CifarResNet32 => CifarOptions(32, ShortcutKind.ZeroPad),
            ResNetArchitecture.CifarResNet44 => CifarOptions(44, ShortcutKind.ZeroPad),
            ResNetArchitecture.CifarResNet56 => CifarOptions(56, ShortcutKind.ZeroPad),
            ResNetArchitecture.CifarResNet110 => CifarOptions(110, ShortcutKind.ZeroPad),
            ResNetArchitecture.CifarPlain20 => CifarOptions(20, ShortcutKind.None),
            ResNetArchitecture.CifarPlain56 => CifarOptions(56, ShortcutKind.None),
            _ => throw new ArgumentOutOfRangeException(nameof(architecture), architecture, $"Unknown architecture. Valid names: {string.Join(", ", Names)}."),
        };
    }

    /// <summary>Builds a named architecture with the given head and input channels.</summary>
    public static ResNetModel Build(ResNetArchitecture architecture, int numClasses = 1000, int inChannels = 3) =>
        new(Options(architecture) with { NumClasses = numClasses, InChannels = inChannels });

    /// <summary>Builds an architecture by registry name (see <see cref="Options(string)"/>).</summary>
    public static ResNetModel Build(string name, int numClasses = 1000, int inChannels = 3) =>
        new(Options(name) with { NumClasses = numClasses, InChannels = inChannels });

    /// <summary>Builds with <paramref name="seed"/> fixing the initial weights (torch's CPU generator is reseeded).</summary>
    public static ResNetModel Build(ResNetOptions options, long seed)
    {
        Native.TorchRuntime.EnsureInitialized();
        random.manual_seed(seed);
        return new ResNetModel(options);
    }

    private static ResNetOptions CifarOptions(int depth, ShortcutKind shortcut)
    {
        if (depth < 8 || (depth - 2) % 6 != 0)
            throw new ArgumentException($"A CIFAR ResNet has depth 6n+2 (8, 14, 20, 32, 44, 56, 110, ...); got {depth}.", nameof(depth));
        int n = (depth - 2) / 6;
        string prefix = shortcut == ShortcutKind.None ? "cifar_plain" : "cifar_resnet";
        return new ResNetOptions
        {
            Name = $"{prefix}{depth}" + (shortcut == ShortcutKind.Projection ? "_b" : ""),
            Block = BlockKind.Basic,
            Stem = StemKind.Cifar,
            StemWidth = 16,
            Layers = [n, n, n],
            StageWidths = [16, 32, 64],
            Shortcut = shortcut,
            NumClasses = 10,
        };
    }

    private static string Normalize(string name) => name.Trim().ToLowerInvariant().Replace("-", "").Replace("_", "");

    [GeneratedRegex(@"^cifar(resnet|plain)(\d+)$")]
    private static partial Regex CifarName();
}
