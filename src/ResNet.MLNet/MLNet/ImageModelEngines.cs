using Microsoft.ML;
using Microsoft.ML.Data;
using ResNet.MLNet.Onnx;
using TorchSharp;
using ResNet.MLNet.Models;

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
            Calibration = () => ImageModelEngines.CalibrationBatches(catalog, input, inputColumn, Input, int8.CalibrationImages, pathColumn, imageLimits),
        };
}

/// <summary>A fitted network ready for ML.NET: the batch engine that runs it and the ONNX graph its saved twin runs.</summary>
internal sealed class ImageModelEngine(IBatchModel batch, byte[]? onnx, string architectureName, string unsupportedExport) : IDisposable
{
    public IBatchModel Batch { get; } = batch;

    /// <summary>
    /// The network as ONNX, or null when it cannot be exported. Its input and output are named after the pixel and
    /// output columns, as ML.NET's OnnxTransformer requires.
    /// </summary>
    public byte[]? Onnx { get; } = onnx;

    public string ArchitectureName { get; } = architectureName;

    /// <summary>Why <see cref="Onnx"/> is null.</summary>
    public string UnsupportedExport { get; } = unsupportedExport;

    public void Dispose() => Batch.Dispose();
}

/// <summary>Builds engines and the in-memory and saved transformer chains around them.</summary>
internal static class ImageModelEngines
{
    /// <summary>The temporary column holding the resized image.</summary>
    public static string ResizedColumn(string outputColumn) => $"{outputColumn}.resnet.resized";

    /// <summary>The temporary column holding the planar pixels in [0, 1], the network's input.</summary>
    public static string PixelsColumn(string outputColumn) => $"{outputColumn}.resnet.pixels";

    public static ImageModelEngine Create(ResNetModel model, bool ownsModel, ImageModelSpec spec, string outputColumn)
    {
        string pixels = PixelsColumn(outputColumn);
        byte[]? onnx = null;
        byte[]? batchedOnnx = null;
        string unsupported = "";
        OnnxOutputKind? kind = spec.Output switch
        {
            ResNetOutputKind.Embedding => OnnxOutputKind.Features,
            ResNetOutputKind.Logits => OnnxOutputKind.Logits,
            ResNetOutputKind.Probabilities => OnnxOutputKind.Probabilities,
            _ => null,
        };
        if (spec.Precision == ResNetPrecision.Int8 && spec.Engine != ResNetInferenceEngine.OnnxRuntime)
            throw new ArgumentException("Precision = Int8 runs on ONNX Runtime; set Engine = OnnxRuntime.", nameof(spec.Engine));
        if (kind is null || spec.L2Normalize)
        {
            unsupported = $"the ONNX exporter does not support {(kind is null ? $"Output = {spec.Output}" : "L2Normalize = true")}";
            if (spec.Engine == ResNetInferenceEngine.OnnxRuntime)
                throw new ArgumentException($"Engine = OnnxRuntime is not available because {unsupported}; use Engine = TorchSharp.", nameof(spec.Engine));
        }
        else
        {
            OnnxModel Export(bool singleRow) => ResNetOnnx.BuildModel(model, new OnnxExportOptions
            {
                Output = kind.Value,
                Normalization = new InputNormalization(spec.Input.Mean, spec.Input.Std) { MeanImage = spec.Input.MeanImage },
                Input = spec.Input,
                InputName = pixels,
                OutputName = outputColumn,
                ImageHeight = spec.Input.ImageSize,
                ImageWidth = spec.Input.ImageSize,
                SingleRow = singleRow,
            });
            // The saved twin runs in ML.NET's OnnxTransformer, one row at a time; the engine runs batches.
            var single = Export(singleRow: true);
            var batched = spec.Engine == ResNetInferenceEngine.OnnxRuntime ? Export(singleRow: false) : null;
            if (spec.Precision == ResNetPrecision.Int8)
            {
                var (channels, size) = (model.Options.InChannels, spec.Input.ImageSize);
                var calibration = spec.Calibration?.Invoke() ?? throw new InvalidOperationException("Int8 needs calibration images.");
                var ranges = OnnxQuantizer.Calibrate(OnnxQuantizer.CalibrationModel(batched!), calibration, channels, size, size);
                var settings = new QuantizationSettings(spec.WeightBits, calibration.Sum(b => b.Rows));
                single = OnnxQuantizer.Quantize(single, ranges, settings);
                batched = OnnxQuantizer.Quantize(batched!, ranges, settings);
            }
            onnx = Bytes(single);
            batchedOnnx = batched is null ? null : Bytes(batched);
        }

        IBatchModel batch;
        if (spec.Engine == ResNetInferenceEngine.OnnxRuntime)
        {
            batch = new OnnxRuntimeEngine(batchedOnnx!, pixels, outputColumn,
                model.Options.InChannels * spec.Input.ImageSize * spec.Input.ImageSize, model.Options.InChannels, spec.Input.ImageSize);
            if (ownsModel)
                model.Dispose(); // the graph holds the weights now
        }
        else
        {
            var device = torch.device(spec.Device);
            if (device.type != DeviceType.CPU)
                model.to(device);
            batch = new TorchModelEngine(model, ownsModel, spec.Input, spec.Output, spec.Stage, spec.L2Normalize, device);
        }
        return new ImageModelEngine(batch, onnx, model.Options.Name, unsupported);
    }

    private static byte[] Bytes(OnnxModel model)
    {
        using var stream = new MemoryStream();
        model.WriteTo(stream);
        return stream.ToArray();
    }

    /// <summary>
    /// The first <paramref name="images"/> rows of <paramref name="input"/> as the network's planar pixels, in batches,
    /// read exactly as the live chain reads them (ML.NET resize, file limits checked, errors naming the row and file).
    /// </summary>
    public static List<(float[] Pixels, int Rows)> CalibrationBatches(TransformsCatalog catalog, IDataView input, string inputColumn,
        ImageModelInput modelInput, int images, string? pathColumn, Data.ImageLimits imageLimits)
    {
        const string resized = "calibration.resized";
        // Rows spread over the whole data (image folders list one class after another), when its size is known.
        long stride = Math.Max(1, (input.GetRowCount() ?? images) / images);
        var sample = stride == 1 ? input : new StridedRows(input, stride);
        var view = ImagePipeline.Resize(catalog, inputColumn, resized, modelInput).Fit(sample).Transform(sample);
        var recorder = new PixelRecorder(modelInput.Channels * modelInput.ImageSize * modelInput.ImageSize);
        var reader = new BatchedModelTransformer(recorder, resized, "calibration.none", batchSize: 8, pathColumn, imageLimits).Transform(view);
        using (var cursor = reader.GetRowCursor([reader.Schema["calibration.none"]]))
        {
            var none = cursor.GetGetter<VBuffer<float>>(reader.Schema["calibration.none"]);
            VBuffer<float> value = default;
            for (int row = 0; row < images && cursor.MoveNext(); row++)
                none(ref value);
        }
        int kept = 0;
        return [.. recorder.Batches.TakeWhile(b => (kept += b.Rows) - b.Rows < images)];
    }

    /// <summary>An <see cref="IBatchModel"/> that keeps the pixel batches it is given.</summary>
    private sealed class PixelRecorder(int inputLength) : IBatchModel
    {
        public List<(float[] Pixels, int Rows)> Batches { get; } = [];
        public int InputLength { get; } = inputLength;
        public int OutputLength => 1;

        public void Run(ReadOnlySpan<float> input, int rows, Span<float> output)
        {
            Batches.Add((input.ToArray(), rows));
            output.Clear();
        }

        public void Dispose() { }
    }

    /// <summary>
    /// The in-memory chain (ML.NET resize, the batched network reading the resized images' pixels itself, cleanup) and a
    /// factory of its saved twin (ML.NET resize and pixel extraction, ML.NET's OnnxTransformer in place of the network,
    /// cleanup). Both see the same pixel values (<see cref="PlanarPixels"/>).
    /// </summary>
    /// <remarks>
    /// <c>postprocess</c>: fits the step appended after the network in both chains (a classifier's head), or null;
    /// <c>temporaryColumns</c>: further columns to drop at the end.
    /// </remarks>
    public static (ITransformer Live, Func<SavedTwin> Twin) BuildChains(TransformsCatalog catalog, IDataView input, string inputColumn, string outputColumn,
        ImageModelEngine engine, ImageModelInput modelInput, int batchSize, string? pathColumn, Data.ImageLimits imageLimits,
        Func<IDataView, ITransformer>? postprocess = null, params string[] temporaryColumns)
    {
        string resized = ResizedColumn(outputColumn);
        string pixels = PixelsColumn(outputColumn);
        int imageSize = modelInput.ImageSize, channels = modelInput.Channels;
        var resize = ImagePipeline.Resize(catalog, inputColumn, resized, modelInput).Fit(input);
        var resizedView = resize.Transform(input);
        var network = new BatchedModelTransformer(engine.Batch, resized, outputColumn, batchSize, pathColumn, imageLimits);
        var scored = network.Transform(resizedView);
        var post = postprocess?.Invoke(scored);
        ITransformer[] WithHead(ITransformer[] steps, ITransformer cleanup) => post is null ? [.. steps, cleanup] : [.. steps, post, cleanup];
        var cleanup = catalog.DropColumns([resized, .. temporaryColumns]).Fit(post?.Transform(scored) ?? scored);
        var live = new TransformerChain<ITransformer>(WithHead([resize, network], cleanup));

        SavedTwin Twin()
        {
            if (engine.Onnx is null)
                throw new NotSupportedException($"This model cannot be saved as a plain ML.NET model because {engine.UnsupportedExport}.");
            var extract = ImagePipeline.ExtractPixels(catalog, resized, pixels, channels).Fit(resizedView);
            var preprocessed = extract.Transform(resizedView);
            // ML.NET reads the graph from the stream; nothing is written to disk.
            using var graph = new MemoryStream(engine.Onnx, writable: false);
            var onnx = catalog.ApplyOnnxModel([outputColumn], [pixels], graph,
                new Dictionary<string, int[]> { [pixels] = [1, channels, imageSize, imageSize] }, gpuDeviceId: null, fallbackToCpu: false).Fit(preprocessed);
            var twinScored = onnx.Transform(preprocessed);
            var twinCleanup = catalog.DropColumns([resized, pixels, .. temporaryColumns]).Fit(post?.Transform(twinScored) ?? twinScored);
            return new SavedTwin(new TransformerChain<ITransformer>(WithHead([resize, extract, onnx], twinCleanup)), onnx);
        }
        return (live, Twin);
    }
}

/// <summary>A plain-ML.NET twin built for saving; disposing it releases its ONNX Runtime session.</summary>
internal sealed class SavedTwin(ITransformer transformer, IDisposable onnx) : IDisposable
{
    public ITransformer Transformer { get; } = transformer;

    public void Dispose() => onnx.Dispose();
}
