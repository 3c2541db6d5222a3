using ResNet.MLNet.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ResNet.MLNet.Models;

/// <summary>
/// The one ResNet implementation, parameterized by <see cref="ResNetOptions"/> (block, layers, stem, widths,
/// shortcut, groups, pre-activation, squeeze-and-excitation). Submodule names equal torchvision's state_dict keys
/// (<c>conv1</c>, <c>bn1</c>, <c>layer1.0.conv1</c>, ..., <c>fc</c>), so torchvision and timm checkpoints map one to one.
/// The seam for transfer learning: <see cref="ForwardFeatures"/> (last feature map), <see cref="ForwardStages"/>
/// (C2..C5), <see cref="ForwardEmbedding"/> (pooled vector), <see cref="ForwardHead"/> and <see cref="ResetClassifier"/>.
/// </summary>
public sealed partial class ResNetModel : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> conv1;
    private readonly Module<Tensor, Tensor>? bn1;
    private readonly Module<Tensor, Tensor>? maxpool;
    private readonly Sequential[] stages;
    private readonly Module<Tensor, Tensor>? norm;
    private Module<Tensor, Tensor>? fc;

    /// <summary>Builds the network and initializes it as torchvision does (He normal for convolutions, fan-out).</summary>
    /// <exception cref="ArgumentException">The options contradict each other; the message names the option.</exception>
    public ResNetModel(ResNetOptions options) : base(Prepare(options))
    {
        Options = options;

        bool imageNet = options.Stem == StemKind.ImageNet;
        conv1 = imageNet
            ? nn.Conv2d(options.InChannels, options.StemWidth, kernel_size: 7, stride: 2, padding: 3, bias: false)
            : Layers.Conv3x3(options.InChannels, options.StemWidth);
        register_module("conv1", conv1);
        // A pre-activation CIFAR net feeds conv1 straight into the first block, which normalizes its own input.
        if (imageNet || !options.PreActivation)
        {
            bn1 = nn.BatchNorm2d(options.StemWidth);
            register_module("bn1", bn1);
        }
        if (imageNet)
        {
            maxpool = nn.MaxPool2d(kernel_size: 3, stride: 2, padding: 1);
            register_module("maxpool", maxpool);
        }

        int inPlanes = options.StemWidth;
        stages = new Sequential[options.Layers.Count];
        for (int s = 0; s < stages.Length; s++)
        {
            int planes = options.StageWidths[s];
            int stride = s == 0 ? 1 : 2;
            var blocks = new List<Module<Tensor, Tensor>>();
            for (int b = 0; b < options.Layers[s]; b++)
            {
                blocks.Add(new ResidualBlock(options, inPlanes, planes, b == 0 ? stride : 1));
                inPlanes = planes * options.Expansion;
            }
            stages[s] = nn.Sequential(blocks);
            register_module($"layer{s + 1}", stages[s]);
        }
        if (options.PreActivation)
        {
            norm = nn.BatchNorm2d(NumFeatures);
            register_module("norm", norm);
        }
        if (options.NumClasses > 0)
        {
            fc = nn.Linear(NumFeatures, options.NumClasses);
            register_module("fc", fc);
        }
        InitializeWeights();
    }

    /// <summary>The architecture this network was built from.</summary>
    public ResNetOptions Options { get; private set; }

    /// <summary>Width of the pooled embedding: 512 for ResNet-18/34, 2048 for ResNet-50/101/152, 64 for CIFAR ResNets.</summary>
    public int NumFeatures => Options.NumFeatures;

    /// <summary>Classes of the current head; 0 when the network has no head.</summary>
    public int NumClasses => Options.NumClasses;

    /// <summary>Number of stages (4 for ImageNet ResNets, 3 for CIFAR ones), the length of <see cref="ForwardStages"/>.</summary>
    public int NumStages => stages.Length;

    /// <summary>Runs the stem (convolution, BatchNorm, ReLU, max-pool where present).</summary>
    public Tensor ForwardStem(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor h = conv1.call(x);
        if (bn1 is not null)
            h = bn1.call(h).relu_();
        if (maxpool is not null)
            h = maxpool.call(h);
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>Runs one stage (0-based) on the output of the previous one.</summary>
    public Tensor ForwardStage(int index, Tensor x) => stages[index].call(x);

    /// <summary>The outputs of every stage (C2..C5 for ImageNet ResNets), for dense tasks. The caller owns the tensors.</summary>
    public IReadOnlyList<Tensor> ForwardStages(Tensor x)
    {
        var outputs = new List<Tensor>(stages.Length);
        Tensor h = ForwardStem(x);
        foreach (var stage in stages)
        {
            var next = stage.call(h);
            if (outputs.Count == 0)
                h.Dispose(); // the stem output is not returned
            outputs.Add(next);
            h = next;
        }
        return outputs;
    }

    /// <summary>The last feature map before pooling, (N, <see cref="NumFeatures"/>, H/32, W/32) for ImageNet ResNets.</summary>
    public Tensor ForwardFeatures(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor h = ForwardStem(x);
        foreach (var stage in stages)
            h = stage.call(h);
        return FinalNorm(h).MoveToOuterDisposeScope();
    }

    /// <summary>The head applied to the last stage's output: final BN-ReLU of pre-activation nets, pooling, classifier.</summary>
    internal Tensor ForwardHeadFromLastStage(Tensor lastStage)
    {
        using var scope = NewDisposeScope();
        return ForwardHead(FinalNorm(lastStage)).MoveToOuterDisposeScope();
    }

    private Tensor FinalNorm(Tensor h) => norm is null ? h : norm.call(h).relu_();

    /// <summary>Global-average-pooled embedding, (N, <see cref="NumFeatures"/>).</summary>
    public Tensor ForwardEmbedding(Tensor x)
    {
        using var scope = NewDisposeScope();
        return Pool(ForwardFeatures(x)).MoveToOuterDisposeScope();
    }

    /// <summary>Pools a feature map from <see cref="ForwardFeatures"/> and applies the classifier; with no head, returns the embedding.</summary>
    public Tensor ForwardHead(Tensor features)
    {
        using var scope = NewDisposeScope();
        Tensor pooled = Pool(features);
        return (fc is null ? pooled : fc.call(pooled)).MoveToOuterDisposeScope();
    }

    /// <summary>The classifier alone on pooled embeddings from <see cref="ForwardEmbedding"/>; with no head, the embeddings.</summary>
    internal Tensor ForwardClassifier(Tensor embeddings) => fc is null ? embeddings.alias() : fc.call(embeddings);

    /// <summary>Logits (N, <see cref="NumClasses"/>), or the embedding when the network has no head.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return ForwardHead(ForwardFeatures(x)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Replaces the classifier with a freshly initialized one for <paramref name="numClasses"/> classes (0 removes it),
    /// on the device and dtype of the network; the way to adapt a pretrained backbone to a new task.
    /// </summary>
    public void ResetClassifier(int numClasses)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(numClasses);
        var reference = parameters().First();
        fc?.Dispose();
        fc = null;
        _internal_submodules.Remove("fc");
        if (numClasses > 0)
        {
            fc = nn.Linear(NumFeatures, numClasses, device: reference.device, dtype: reference.dtype);
            register_module("fc", fc);
        }
        Options = Options with { NumClasses = numClasses };
    }

    /// <summary>Runs before the base constructor, whose first native call needs libtorch loaded.</summary>
    private static string Prepare(ResNetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        TorchRuntime.EnsureInitialized();
        return options.Name;
    }

    private static Tensor Pool(Tensor features) => features.mean([2, 3]);

    private void InitializeWeights()
    {
        using var noGrad = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            // Convolutions: He normal, fan-out (torchvision); BatchNorm: scale 1, shift 0 (the defaults); fc keeps nn.Linear's init.
            if (p.dim() == 4 && name.EndsWith("weight", StringComparison.Ordinal))
                nn.init.kaiming_normal_(p, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
        }
        if (!Options.ZeroInitResidual)
            return;
        foreach (var stage in stages)
        {
            foreach (var block in stage.children().OfType<ResidualBlock>())
            {
                foreach (var (name, p) in block.LastResidualLayer.named_parameters())
                    if (name == "weight")
                        p.zero_();
            }
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // Module.Dispose releases buffers but leaves parameter tensors to the finalizer: release them now.
            foreach (var p in parameters())
                p.Dispose();
            conv1.Dispose();
            bn1?.Dispose();
            maxpool?.Dispose();
            foreach (var s in stages)
                s.Dispose();
            norm?.Dispose();
            fc?.Dispose();
        }
        base.Dispose(disposing);
    }
}
