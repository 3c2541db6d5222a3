using System.Reflection;
using ResNet.MLNet.Models;
using static TorchSharp.torch;

namespace ResNet.MLNet.Onnx;


/// <summary>
/// Exports a <see cref="ResNetModel"/> to ONNX (opset 17, IR version 8) for ONNX Runtime and ML.NET's OnnxTransformer.
/// The graph computes what the network computes in evaluation mode: BatchNorm uses its running statistics and is
/// folded into the convolution before it. The network's own mode is not changed. Weights are stored in the file.
/// </summary>
public static class ResNetOnnx
{
    /// <summary>The opset of the default domain the exported graphs import.</summary>
    public const int OpsetVersion = 17;

    /// <summary>The IR version that goes with <see cref="OpsetVersion"/> (opsets 15 to 18 pair with IR 8).</summary>
    public const int IrVersion = 8;

    /// <summary>Writes <paramref name="model"/> to the ONNX file <paramref name="path"/> (created or overwritten).</summary>
    /// <exception cref="ArgumentException">An option is invalid or does not fit the network; the message names it.</exception>
    public static void Export(ResNetModel model, string path, OnnxExportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var onnx = BuildModel(model, options ?? new OnnxExportOptions()); // fails before the file is created
        using var file = File.Create(path);
        onnx.WriteTo(file);
    }

    /// <summary>Writes <paramref name="model"/> as ONNX to <paramref name="stream"/>, which stays open.</summary>
    /// <exception cref="ArgumentException">An option is invalid or does not fit the network; the message names it.</exception>
    public static void Export(ResNetModel model, Stream stream, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        BuildModel(model, options ?? new OnnxExportOptions()).WriteTo(stream);
    }

    internal static OnnxModel BuildModel(ResNetModel model, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        var network = model.Options;
        options.Validate(network);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var graph = new OnnxGraphBuilder(options.InputName, options.OutputName);
        string x = graph.InputName;
        if (options.Normalization is { } normalization)
        {
            long[] perChannel = [1, network.InChannels, 1, 1];
            var mean = normalization.MeanImage is { } image
                ? graph.Constant("normalize.mean", [1, network.InChannels, options.ImageHeight!.Value, options.ImageWidth!.Value], image.ToArray())
                : graph.Constant("normalize.mean", perChannel, normalization.Mean.ToArray());
            x = graph.Node("Sub", "normalize.sub", [x, mean]);
            x = graph.Node("Div", "normalize.div", [x, graph.Constant("normalize.std", perChannel, normalization.Std.ToArray())]);
        }
        string result = model.EmitOnnx(graph, x, options.Output);

        OnnxDim batch = options.SingleRow ? 1 : "batch";
        var input = new OnnxValueInfo(options.InputName, OnnxDataType.Float,
            [batch, network.InChannels, Dim(options.ImageHeight, "height"), Dim(options.ImageWidth, "width")]);
        int width = options.Output == ResNetOutputKind.Embedding ? network.NumFeatures : network.NumClasses;
        if (options.SingleRow)
            result = graph.Node("Reshape", "output.drop_batch", [result, graph.Int64Constant("output.row_shape", width)]);
        var output = new OnnxValueInfo(options.OutputName, OnnxDataType.Float, options.SingleRow ? [width] : [batch, width]);

        string version = typeof(ResNetOnnx).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "";
        return new OnnxModel(
            graph.Build(network.Name, input, result, output),
            IrVersion,
            OpsetVersion,
            ProducerName: "ResNet.MLNet",
            ProducerVersion: version,
            DocString: $"{network.Name} ({options.Output.ToString().ToLowerInvariant()}) exported by ResNet.MLNet",
            Metadata:
            [
                new("resnet_mlnet.architecture", network.Name),
                new("resnet_mlnet.output", options.Output.ToString().ToLowerInvariant()),
                new("resnet_mlnet.num_classes", network.NumClasses.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                .. (options.Input?.ToMetadata() ?? new Dictionary<string, string>()).Select(e => new KeyValuePair<string, string>($"resnet_mlnet.input.{e.Key}", e.Value)),
            ]);
    }

    private static OnnxDim Dim(int? size, string name) => size is { } fixedSize ? fixedSize : name;
}
