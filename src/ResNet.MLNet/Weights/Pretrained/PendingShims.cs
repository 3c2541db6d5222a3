// Replaced by the ONNX weight importer (branch onnx-import) when it lands: until then resnet18.mlnet_in1k is listed and
// located but cannot be read, and says so.
namespace ResNet.MLNet.Weights;

internal sealed record OnnxImportOptions
{
    public bool ReverseInputChannels { get; init; }
}

internal static class OnnxWeightsImporter
{
    public static WeightsFileContent Read(string path, OnnxImportOptions? options = null) =>
        throw new NotSupportedException($"{path}: reading ONNX graphs as weights is not available in this build.");
}
