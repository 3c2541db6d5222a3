namespace ResNet.MLNet.Weights;

/// <summary>Options of <see cref="OnnxWeightsImporter"/>.</summary>
public sealed record OnnxImportOptions
{
    /// <summary>The defaults: channels kept in the graph's order.</summary>
    public static OnnxImportOptions Default { get; } = new();

    /// <summary>
    /// Reverses the input channels of <c>conv1.weight</c> (<c>conv1.weight[:, [2, 1, 0]]</c>), for graphs trained on BGR
    /// input (Caffe and CNTK models, such as ML.NET's ResNet-18) loaded into a model that is fed RGB. Needs a 3-channel
    /// first convolution. Default false.
    /// </summary>
    public bool ReverseInputChannels { get; init; }
}
