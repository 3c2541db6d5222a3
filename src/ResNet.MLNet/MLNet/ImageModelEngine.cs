using Microsoft.ML;
using Microsoft.ML.Data;
using ResNet.MLNet.Models;
using ResNet.MLNet.Onnx;
using TorchSharp;

namespace ResNet.MLNet;

/// <summary>What an image model computes, apart from the network: its input description, output, engine.</summary>
internal sealed record ImageModelSpec(ImageModelInput Input, ResNetOutputKind Output, int Stage, bool L2Normalize, ResNetInferenceEngine Engine, string Device)
{
    /// <summary>Float32, or int8 (ONNX Runtime only) quantized with ranges observed on calibration images.</summary>
    public ResNetPrecision Precision { get; init; } = ResNetPrecision.Float32;

    /// <summary>With int8: the calibration images as planar pixel batches (rows x channels x size x size).</summary>
    public Func<IReadOnlyList<(float[] Pixels, int Rows)>>? Calibration { get; init; }

    /// <summary>With int8: bits of the quantized convolution weights (7 or 8).</summary>
    public int WeightBits { get; init; } = 7;

    /// <summary>This spec with <paramref name="precision"/>; int8 calibrates on rows of <paramref name="input"/> read as the live chain reads them.</summary>
    public ImageModelSpec WithPrecision(ResNetPrecision precision, Int8Options int8, TransformsCatalog catalog, IDataView input, string inputColumn,
        string? pathColumn, Data.ImageLimits imageLimits) => precision == ResNetPrecision.Float32 ? this : this with
        {
            Precision = precision,
            WeightBits = int8.WeightBits,
            Calibration = () => ImageModelChains.CalibrationBatches(catalog, input, inputColumn, Input, int8.CalibrationImages, pathColumn, imageLimits),
        };
}

/// <summary>
/// A network made ready for ML.NET, as an <see cref="ImageModelSpec"/> says: the batch scorer the live transformer runs
/// (TorchSharp or ONNX Runtime) and the ONNX graph its saved, plain-ML.NET twin runs (null when the output cannot be
/// exported). <see cref="ImageModelChains"/> builds the ML.NET chains around it.
/// </summary>
internal sealed class ImageModelEngine : IDisposable
{
    private ImageModelEngine(IBatchScorer scorer, byte[]? onnx, string architectureName, string unsupportedExport)
    {
        Scorer = scorer;
        Onnx = onnx;
        ArchitectureName = architectureName;
        UnsupportedExport = unsupportedExport;
    }

    /// <summary>Scores batches of planar pixels in [0, 1].</summary>
    public IBatchScorer Scorer { get; }

    /// <summary>
    /// The network as a one-row ONNX graph for ML.NET's OnnxTransformer, or null when it cannot be exported. Its input and
    /// output are named after the pixel and output columns, as the OnnxTransformer requires.
    /// </summary>
    public byte[]? Onnx { get; }

    public string ArchitectureName { get; }

    /// <summary>Why <see cref="Onnx"/> is null.</summary>
    public string UnsupportedExport { get; }

    /// <summary>
    /// Exports <paramref name="model"/> (quantized for int8) and builds the scorer <see cref="ImageModelSpec.Engine"/>
    /// names. With ONNX Runtime the graph holds the weights, so a model the engine owns (<paramref name="ownsModel"/>) is
    /// disposed here; with TorchSharp the scorer keeps it (and disposes it if owned).
    /// </summary>
    /// <exception cref="ArgumentException">The spec asks for what its engine cannot do (int8 on TorchSharp; ONNX Runtime for an output the exporter does not write).</exception>
    public static ImageModelEngine Create(ResNetModel model, bool ownsModel, ImageModelSpec spec, string outputColumn)
    {
        if (spec.Precision == ResNetPrecision.Int8 && spec.Engine != ResNetInferenceEngine.OnnxRuntime)
            throw new ArgumentException("Precision = Int8 runs on ONNX Runtime; set Engine = OnnxRuntime.", nameof(spec.Engine));
        bool exportable = (spec.Output is ResNetOutputKind.Embedding or ResNetOutputKind.Logits or ResNetOutputKind.Probabilities) && !spec.L2Normalize;
        string unsupported = exportable ? "" : $"the ONNX exporter does not support {(spec.L2Normalize ? "L2Normalize = true" : $"Output = {spec.Output}")}";
        if (!exportable && spec.Engine == ResNetInferenceEngine.OnnxRuntime)
            throw new ArgumentException($"Engine = OnnxRuntime is not available because {unsupported}; use Engine = TorchSharp.", nameof(spec.Engine));

        var (twin, batched) = exportable ? Export(model, spec, outputColumn) : (null, null);
        IBatchScorer scorer;
        if (spec.Engine == ResNetInferenceEngine.OnnxRuntime)
        {
            scorer = new OnnxRuntimeBatchScorer(batched!, ImageModelChains.PixelsColumn(outputColumn), outputColumn,
                model.Options.InChannels * spec.Input.ImageSize * spec.Input.ImageSize, model.Options.InChannels, spec.Input.ImageSize);
            if (ownsModel)
                model.Dispose();
        }
        else
        {
            var device = torch.device(spec.Device);
            if (device.type != DeviceType.CPU)
                model.to(device);
            scorer = new TorchBatchScorer(model, ownsModel, spec.Input, spec.Output, spec.Stage, spec.L2Normalize, device);
        }
        return new ImageModelEngine(scorer, twin, model.Options.Name, unsupported);
    }

    /// <summary>
    /// The graph of the saved twin (one row: ML.NET's OnnxTransformer scores row by row and wants a 1-D output) and, for
    /// ONNX Runtime, the batched graph the scorer runs; both quantized alike for int8.
    /// </summary>
    private static (byte[] Twin, byte[]? Batched) Export(ResNetModel model, ImageModelSpec spec, string outputColumn)
    {
        OnnxModel Build(bool singleRow) => ResNetOnnx.BuildModel(model, new OnnxExportOptions
        {
            Output = spec.Output,
            Normalization = new InputNormalization(spec.Input.Mean, spec.Input.Std) { MeanImage = spec.Input.MeanImage },
            Input = spec.Input,
            InputName = ImageModelChains.PixelsColumn(outputColumn),
            OutputName = outputColumn,
            ImageHeight = spec.Input.ImageSize,
            ImageWidth = spec.Input.ImageSize,
            SingleRow = singleRow,
        });
        var single = Build(singleRow: true);
        var batched = spec.Engine == ResNetInferenceEngine.OnnxRuntime ? Build(singleRow: false) : null;
        if (spec.Precision == ResNetPrecision.Int8)
        {
            var (channels, size) = (model.Options.InChannels, spec.Input.ImageSize);
            var calibration = spec.Calibration?.Invoke() ?? throw new InvalidOperationException("Int8 needs calibration images.");
            var measured = OnnxQuantizer.Calibrate(OnnxQuantizer.CalibrationModel(batched!), calibration, channels, size, size);
            var settings = new QuantizationSettings(spec.WeightBits, calibration.Sum(b => b.Rows));
            single = OnnxQuantizer.Quantize(single, measured, settings);
            batched = OnnxQuantizer.Quantize(batched!, measured, settings);
        }
        return (single.ToBytes(), batched?.ToBytes());
    }

    public void Dispose() => Scorer.Dispose();
}
