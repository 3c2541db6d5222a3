namespace ResNet.MLNet.Weights;

/// <summary>How <see cref="WeightsLoader"/> fits a weight file to a model. The defaults load a checkpoint of the same
/// architecture strictly while allowing the two changes transfer learning needs: another class count and another
/// number of input channels.</summary>
public sealed record WeightsLoadOptions
{
    /// <summary>
    /// Fail, listing every problem at once, when a backbone key is missing, a file key is unexpected or a shape differs
    /// (after the allowances below); the model is then left untouched. When false, load what fits and report the rest.
    /// Default true.
    /// </summary>
    public bool Strict { get; init; } = true;

    /// <summary>
    /// When the file's classifier does not fit the model's (another class count, no head in the file or in the model),
    /// leave the model's head as initialized and say so in the report instead of failing. Default true.
    /// </summary>
    public bool AllowHeadMismatch { get; init; } = true;

    /// <summary>
    /// Adapt the input convolution to the model's input channels as timm's <c>adapt_input_conv</c> does: summed over the
    /// colour channels for one channel, repeated and scaled by 3/N for N channels. Default true.
    /// </summary>
    public bool AdaptInputChannels { get; init; } = true;

    /// <summary>
    /// Load floating-point tensors holding NaN or infinite values. When false, such a tensor is refused by name before
    /// anything is copied: a network with one would output NaN for every input. Default false.
    /// </summary>
    public bool AllowNonFinite { get; init; }

    /// <summary>
    /// The prefix before the network's keys in the file, removed before loading; keys without it are left out (a
    /// Lightning checkpoint's <c>model.</c>, MoCo's <c>module.encoder_q.</c>; "" for the keys as they are). Default null:
    /// found from the keys (the one prefix under which both <c>conv1.weight</c> and <c>layer1.0.conv1.weight</c> appear,
    /// or DataParallel's <c>module.</c>); a file holding several networks is refused with their prefixes named.
    /// </summary>
    public string? KeyPrefix { get; init; }

    /// <summary>The defaults.</summary>
    public static WeightsLoadOptions Default { get; } = new();

    /// <summary>Everything must match exactly: no head change, no channel adaptation.</summary>
    public static WeightsLoadOptions Exact { get; } = new() { AllowHeadMismatch = false, AdaptInputChannels = false };
}
