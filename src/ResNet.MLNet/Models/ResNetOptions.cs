namespace ResNet.MLNet.Models;

/// <summary>The residual block a stage is built from.</summary>
public enum BlockKind
{
    /// <summary>Two 3x3 convolutions (ResNet-18/34, CIFAR ResNets); expansion 1.</summary>
    Basic,
    /// <summary>1x1 reduce, 3x3 (carries the stride, torchvision v1.5), 1x1 expand; expansion 4.</summary>
    Bottleneck,
}

/// <summary>The network's first layers.</summary>
public enum StemKind
{
    /// <summary>7x7 convolution with stride 2, BatchNorm, ReLU, 3x3 max-pool with stride 2 (ImageNet ResNets).</summary>
    ImageNet,
    /// <summary>3x3 convolution with stride 1, BatchNorm, ReLU, no pooling (the paper's CIFAR-10 ResNets).</summary>
    Cifar,
}

/// <summary>How a block's input reaches its output.</summary>
public enum ShortcutKind
{
    /// <summary>Identity, or 1x1 convolution + BatchNorm where the shape changes (the paper's option B; torchvision).</summary>
    Projection,
    /// <summary>Identity, subsampled and zero-padded in channels where the shape changes; no parameters (the paper's option A).</summary>
    ZeroPad,
    /// <summary>No shortcut at all: a plain network, for the paper's degradation experiment.</summary>
    None,
}

/// <summary>
/// Everything that defines a ResNet's architecture, and the one way the estimators and jobs take an architecture: a
/// named one converts implicitly (<c>Architecture = ResNetArchitecture.ResNet50</c>), a name parses
/// (<c>ResNetModels.Options("cifar_resnet20")</c>), and any custom combination that validates can be given or built
/// with <see cref="ResNetModel"/>.
/// </summary>
public sealed record ResNetOptions
{
    /// <summary>The options of a named architecture (<see cref="ResNetModels.Options(ResNetArchitecture)"/>).</summary>
    public static implicit operator ResNetOptions(ResNetArchitecture architecture) => ResNetModels.Options(architecture);

    /// <summary>Name used in summaries and saved metadata. Default "custom".</summary>
    public string Name { get; init; } = "custom";

    /// <summary>Block type. Default <see cref="BlockKind.Basic"/>.</summary>
    public BlockKind Block { get; init; } = BlockKind.Basic;

    /// <summary>Blocks per stage, e.g. [2, 2, 2, 2] for ResNet-18 or [3, 3, 3] for CIFAR ResNet-20.</summary>
    public IReadOnlyList<int> Layers { get; init; } = [2, 2, 2, 2];

    /// <summary>Base width ("planes") of each stage; the first stage has stride 1, later ones stride 2. Default 64, 128, 256, 512.</summary>
    public IReadOnlyList<int> StageWidths { get; init; } = [64, 128, 256, 512];

    /// <summary>Stem type. Default <see cref="StemKind.ImageNet"/>.</summary>
    public StemKind Stem { get; init; } = StemKind.ImageNet;

    /// <summary>Output channels of the stem convolution. Default 64.</summary>
    public int StemWidth { get; init; } = 64;

    /// <summary>Shortcut type. Default <see cref="ShortcutKind.Projection"/>.</summary>
    public ShortcutKind Shortcut { get; init; } = ShortcutKind.Projection;

    /// <summary>Groups of the 3x3 convolution in bottleneck blocks (ResNeXt: 32). Default 1.</summary>
    public int Groups { get; init; } = 1;

    /// <summary>Width per group of bottleneck blocks (64 standard, 128 for Wide ResNet-50-2, 4 for ResNeXt-50 32x4d).</summary>
    public int WidthPerGroup { get; init; } = 64;

    /// <summary>Use pre-activation blocks (BN-ReLU-conv, He et al. 2016 "Identity Mappings"), with a final BN-ReLU named <c>norm</c>.</summary>
    public bool PreActivation { get; init; }

    /// <summary>Add a squeeze-and-excitation module (<c>se.fc1</c>, <c>se.fc2</c>, timm's names) to every block.</summary>
    public bool SqueezeExcitation { get; init; }

    /// <summary>Channel reduction of the squeeze-and-excitation module. Default 16.</summary>
    public int SqueezeExcitationReduction { get; init; } = 16;

    /// <summary>Input channels: 3 for RGB, 1 for grayscale. Default 3.</summary>
    public int InChannels { get; init; } = 3;

    /// <summary>Classes of the classifier head; 0 builds the backbone without a head (embedding output). Default 1000.</summary>
    public int NumClasses { get; init; } = 1000;

    /// <summary>Initialize the last BatchNorm scale of each residual branch to zero (torchvision's zero_init_residual).</summary>
    public bool ZeroInitResidual { get; init; }

    /// <summary>Channel expansion of the block type: 1 for basic, 4 for bottleneck.</summary>
    public int Expansion => Block == BlockKind.Basic ? 1 : 4;

    /// <summary>Width of the pooled embedding (the input of the classifier head).</summary>
    public int NumFeatures => StageWidths[^1] * Expansion;

    /// <summary>Checks the combination, naming the option at fault.</summary>
    /// <exception cref="ArgumentException">An option is out of range or options contradict each other.</exception>
    public void Validate()
    {
        if (Layers is null || Layers.Count == 0 || Layers.Any(n => n < 1))
            throw new ArgumentException($"{nameof(Layers)} must list at least one stage, each with at least one block; got [{string.Join(", ", Layers ?? [])}].", nameof(Layers));
        if (StageWidths is null || StageWidths.Count != Layers.Count || StageWidths.Any(w => w < 1))
            throw new ArgumentException($"{nameof(StageWidths)} must give one positive width per stage ({Layers.Count} stages); got [{string.Join(", ", StageWidths ?? [])}].", nameof(StageWidths));
        if (StemWidth < 1)
            throw new ArgumentException($"{nameof(StemWidth)} must be positive; got {StemWidth}.", nameof(StemWidth));
        if (InChannels < 1)
            throw new ArgumentException($"{nameof(InChannels)} must be positive (3 for RGB, 1 for grayscale); got {InChannels}.", nameof(InChannels));
        if (NumClasses < 0)
            throw new ArgumentException($"{nameof(NumClasses)} must be 0 (no head) or positive; got {NumClasses}.", nameof(NumClasses));
        if (Groups < 1 || WidthPerGroup < 1)
            throw new ArgumentException($"{nameof(Groups)} and {nameof(WidthPerGroup)} must be positive; got {Groups} and {WidthPerGroup}.", nameof(Groups));
        if (Block == BlockKind.Basic && (Groups != 1 || WidthPerGroup != 64))
            throw new ArgumentException($"Basic blocks support only {nameof(Groups)} = 1 and {nameof(WidthPerGroup)} = 64 (as in torchvision); use {nameof(BlockKind.Bottleneck)} blocks for grouped or wide variants.", nameof(Groups));
        if (Block == BlockKind.Bottleneck && StageWidths.Any(planes => planes * WidthPerGroup / 64 < 1))
            throw new ArgumentException($"{nameof(WidthPerGroup)} = {WidthPerGroup} leaves a bottleneck stage with no channels per group (width per group = planes x {nameof(WidthPerGroup)} / 64 must be at least 1).", nameof(WidthPerGroup));
        if (SqueezeExcitation && SqueezeExcitationReduction < 1)
            throw new ArgumentException($"{nameof(SqueezeExcitationReduction)} must be positive; got {SqueezeExcitationReduction}.", nameof(SqueezeExcitationReduction));
        if (Shortcut == ShortcutKind.ZeroPad)
        {
            int inplanes = StemWidth;
            foreach (int planes in StageWidths)
            {
                int outplanes = planes * Expansion;
                if (outplanes < inplanes || (outplanes - inplanes) % 2 != 0)
                    throw new ArgumentException($"{nameof(Shortcut)} = {nameof(ShortcutKind.ZeroPad)} needs each stage to widen by an even number of channels; {inplanes} -> {outplanes} does not.", nameof(Shortcut));
                inplanes = outplanes;
            }
        }
    }
}
