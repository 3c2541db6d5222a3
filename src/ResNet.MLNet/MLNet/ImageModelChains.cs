using Microsoft.ML;
using Microsoft.ML.Data;

namespace ResNet.MLNet;

/// <summary>The ML.NET chains around an <see cref="ImageModelEngine"/>: the live one and its saved, plain-ML.NET twin; and int8 calibration rows read as the live chain reads them.</summary>
internal static class ImageModelChains
{
    /// <summary>The temporary column holding the resized image.</summary>
    public static string ResizedColumn(string outputColumn) => $"{outputColumn}.resnet.resized";

    /// <summary>The temporary column holding the planar pixels in [0, 1], the network's input.</summary>
    public static string PixelsColumn(string outputColumn) => $"{outputColumn}.resnet.pixels";

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

    /// <summary>An <see cref="IBatchScorer"/> that keeps the pixel batches it is given.</summary>
    private sealed class PixelRecorder(int inputLength) : IBatchScorer
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
    /// <c>head</c>: a fitted step appended after the network in both chains (a classifier's head), or null;
    /// <c>temporaryColumns</c>: further columns to drop at the end.
    /// </remarks>
    public static (ITransformer Live, Func<OwnedTransformer> Twin) BuildChains(TransformsCatalog catalog, IDataView input, string inputColumn, string outputColumn,
        ImageModelEngine engine, ImageModelInput modelInput, int batchSize, string? pathColumn, Data.ImageLimits imageLimits,
        ITransformer? head = null, params string[] temporaryColumns)
    {
        string resized = ResizedColumn(outputColumn);
        string pixels = PixelsColumn(outputColumn);
        int imageSize = modelInput.ImageSize, channels = modelInput.Channels;
        var resize = ImagePipeline.Resize(catalog, inputColumn, resized, modelInput).Fit(input);
        var resizedView = resize.Transform(input);
        var network = new BatchedModelTransformer(engine.Scorer, resized, outputColumn, batchSize, pathColumn, imageLimits);
        var scored = network.Transform(resizedView);
        ITransformer[] WithHead(ITransformer[] steps, ITransformer cleanup) => head is null ? [.. steps, cleanup] : [.. steps, head, cleanup];
        var cleanup = catalog.DropColumns([resized, .. temporaryColumns]).Fit(head?.Transform(scored) ?? scored);
        var live = new TransformerChain<ITransformer>(WithHead([resize, network], cleanup));

        // The twin is built when the model is saved; it needs the schema, not the fit-time data.
        var resizedSchema = new SchemaOnlyView(resizedView.Schema);
        OwnedTransformer Twin()
        {
            if (engine.Onnx is null)
                throw new NotSupportedException($"This model cannot be saved as a plain ML.NET model because {engine.UnsupportedExport}.");
            var extract = ImagePipeline.ExtractPixels(catalog, resized, pixels, channels).Fit(resizedSchema);
            var preprocessed = extract.Transform(resizedSchema);
            var onnx = OnnxStep.Fit(catalog, engine.Onnx, pixels, [1, channels, imageSize, imageSize], outputColumn, preprocessed);
            var twinScored = onnx.Transformer.Transform(preprocessed);
            var twinCleanup = catalog.DropColumns([resized, pixels, .. temporaryColumns]).Fit(head?.Transform(twinScored) ?? twinScored);
            return new OwnedTransformer(new TransformerChain<ITransformer>(WithHead([resize, extract, onnx.Transformer], twinCleanup)), onnx);
        }
        return (live, Twin);
    }
}

/// <summary>A transformer and the resources it holds (an <see cref="OnnxStep"/>): disposing it releases them.</summary>
internal sealed class OwnedTransformer(ITransformer transformer, IDisposable resources) : IDisposable
{
    public ITransformer Transformer { get; } = transformer;

    public void Dispose() => resources.Dispose();
}
