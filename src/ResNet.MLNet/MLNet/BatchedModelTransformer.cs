using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using ResNet.MLNet.Data;

namespace ResNet.MLNet;

/// <summary>A model that maps fixed-size float vectors to fixed-size float vectors, many rows at a time.</summary>
internal interface IBatchScorer : IDisposable
{
    /// <summary>Floats per input row.</summary>
    int InputLength { get; }

    /// <summary>Floats per output row.</summary>
    int OutputLength { get; }

    /// <summary>Runs <paramref name="rows"/> rows: <paramref name="input"/> holds rows x <see cref="InputLength"/> floats.</summary>
    void Run(ReadOnlySpan<float> input, int rows, Span<float> output);
}

/// <summary>
/// Row-to-row ML.NET transformer that applies an <see cref="IBatchScorer"/> to an image column whose pixels
/// (<see cref="PlanarPixels"/>) are the model's input. Its data view
/// scores rows in batches — a look-ahead cursor reads and decodes the next batch while the current one runs — and keeps
/// the input's row order and lazy semantics; its row mapper (used by prediction engines) scores one row at a time.
/// </summary>
internal sealed class BatchedModelTransformer : ITransformer
{
    private readonly IBatchScorer model;

    public BatchedModelTransformer(IBatchScorer model, string inputColumn, string outputColumn, int batchSize, string? pathColumn, ImageLimits imageLimits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentNullException.ThrowIfNull(imageLimits);
        imageLimits.Validate();
        ImageLimits = imageLimits;
        this.model = model;
        InputColumn = inputColumn;
        OutputColumn = outputColumn;
        BatchSize = batchSize;
        PathColumn = pathColumn;
    }

    public string InputColumn { get; }
    public string OutputColumn { get; }
    public int BatchSize { get; }

    /// <summary>A text column naming each row's file, quoted in errors when present.</summary>
    public string? PathColumn { get; }

    /// <summary>Limits checked on the header of each file in <see cref="PathColumn"/> before it is decoded.</summary>
    public ImageLimits ImageLimits { get; }

    public bool IsRowToRowMapper => true;

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        var input = inputSchema.GetColumnOrNull(InputColumn)
            ?? throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Schema mismatch for input column '{InputColumn}': the column is missing.");
        if (input.Type is not ImageDataViewType { Height: > 0 } image || ImageChannels(image) is not (1 or 3))
            throw new ArgumentOutOfRangeException(nameof(inputSchema),
                $"Schema mismatch for input column '{InputColumn}': expected an image of {model.InputLength} pixel values (1 or 3 channels), got {input.Type}.");
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        builder.AddColumn(OutputColumn, new VectorDataViewType(NumberDataViewType.Single, model.OutputLength));
        return builder.ToSchema();
    }

    public IDataView Transform(IDataView input) => new BatchedDataView(this, input);

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => new RowMapper(this, inputSchema);

    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw new NotSupportedException("This transformer is saved through its ONNX twin by the transformer that owns it.");

    /// <summary>Channels of the network input an image of this size fills (its pixels in planar order), or 0 when none fits.</summary>
    private int ImageChannels(ImageDataViewType image)
    {
        long pixels = (long)image.Height * image.Width;
        return pixels > 0 && model.InputLength % pixels == 0 ? (int)(model.InputLength / pixels) : 0;
    }

    /// <summary>Runs the model on rows and wraps any failure with the row (and file) at fault.</summary>
    private void Score(float[] input, int rows, float[] output) => model.Run(input.AsSpan(0, rows * model.InputLength), rows, output.AsSpan(0, rows * model.OutputLength));

    private static InvalidDataException RowError(long row, string? path, Exception inner) => ImagePipeline.RowError(row, path, inner);

    /// <summary>
    /// Reads rows of the input image column (and path) from a cursor into a buffer: each image (resized to the network's
    /// input) has its pixels written in planar order by <see cref="PlanarPixels"/>, as ML.NET's ExtractPixels would.
    /// </summary>
    private sealed class RowReader
    {
        private readonly ValueGetter<MLImage> image;
        private readonly ValueGetter<ReadOnlyMemory<char>>? path;
        private readonly int length;
        private readonly int channels;
        private readonly int height;
        private readonly int width;
        private readonly ImageLimits? limits;
        private MLImage? picture;

        /// <param name="parent">The transformer.</param>
        /// <param name="row">The row (or cursor) read.</param>
        /// <param name="checkFiles">Check each row's file header before its image is decoded (rows read one at a time).</param>
        public RowReader(BatchedModelTransformer parent, DataViewRow row, bool checkFiles)
        {
            limits = checkFiles ? parent.ImageLimits : null;
            var input = row.Schema[parent.InputColumn];
            var type = (ImageDataViewType)input.Type;
            image = row.GetGetter<MLImage>(input);
            (channels, height, width) = (parent.ImageChannels(type), type.Height, type.Width);
            var pathColumn = parent.PathColumn is null ? null : row.Schema.GetColumnOrNull(parent.PathColumn);
            if (pathColumn is { Type: TextDataViewType } p && row.IsColumnActive(p))
                path = row.GetGetter<ReadOnlyMemory<char>>(p);
            length = parent.model.InputLength;
        }

        public void Read(long position, float[] buffer, int slot)
        {
            var destination = buffer.AsSpan(slot * length, length);
            try
            {
                if (limits is not null && PathOf() is { Length: > 0 } file)
                    ImageHeader.Check(file, limits);
                image(ref picture!);
                if (picture is null)
                    destination.Clear(); // no image (an empty path): zeros, as ML.NET's ExtractPixels gives
                else
                    PlanarPixels.Write(picture, channels, height, width, destination);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw RowError(position, PathOf(), e);
            }
        }

        private string? PathOf()
        {
            if (path is null)
                return null;
            ReadOnlyMemory<char> text = default;
            path(ref text);
            return text.ToString();
        }
    }

    private sealed class BatchedDataView(BatchedModelTransformer parent, IDataView input) : IDataView
    {
        public DataViewSchema Schema { get; } = parent.GetOutputSchema(input.Schema);
        public bool CanShuffle => false;
        public long? GetRowCount() => input.GetRowCount();

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
            new BatchedCursor(parent, input, Schema, columnsNeeded);

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
            [GetRowCursor(columnsNeeded, rand)];
    }

    /// <summary>
    /// Serves the input's columns from a main cursor, and the output column from batches that a second (look-ahead)
    /// cursor over the same input reads one batch ahead on a background task.
    /// </summary>
    private sealed class BatchedCursor : DataViewRowCursor
    {
        private readonly BatchedModelTransformer parent;
        private readonly IDataView input;
        private readonly DataViewRowCursor main;
        private readonly DataViewRowCursor? lookahead;
        private readonly RowReader? reader;
        private readonly int inputCount;
        private readonly bool outputActive;
        private readonly float[][] inputBuffers = new float[2][];
        private readonly float[] outputBuffer;
        private Task<int>? pending;
        private int pendingBuffer;
        private long lookaheadPosition = -1;
        private long batchStart;
        private int batchRows;
        private long position = -1;

        public BatchedCursor(BatchedModelTransformer parent, IDataView input, DataViewSchema schema, IEnumerable<DataViewSchema.Column> columnsNeeded)
        {
            this.parent = parent;
            this.input = input;
            Schema = schema;
            inputCount = input.Schema.Count;
            var needed = columnsNeeded.ToList();
            outputActive = needed.Any(c => c.Index >= inputCount);
            main = input.GetRowCursor(needed.Where(c => c.Index < inputCount).Select(c => input.Schema[c.Index]));
            int batch = parent.BatchSize;
            outputBuffer = outputActive ? new float[batch * parent.model.OutputLength] : [];
            if (outputActive)
            {
                // ML.NET's image cursors may decode ahead on worker threads: check every file's header before any is read.
                ImagePipeline.CheckImageFiles(input, parent.PathColumn, parent.ImageLimits);
                var lookColumns = new List<DataViewSchema.Column> { input.Schema[parent.InputColumn] };
                if (parent.PathColumn is not null && input.Schema.GetColumnOrNull(parent.PathColumn) is { } p)
                    lookColumns.Add(p);
                lookahead = input.GetRowCursor(lookColumns);
                reader = new RowReader(parent, lookahead, checkFiles: false);
                inputBuffers[0] = new float[batch * parent.model.InputLength];
                inputBuffers[1] = new float[batch * parent.model.InputLength];
            }
        }

        public override DataViewSchema Schema { get; }
        public override long Position => position;
        public override long Batch => 0;
        public override ValueGetter<DataViewRowId> GetIdGetter() => main.GetIdGetter();
        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index >= inputCount ? outputActive : main.IsColumnActive(main.Schema[column.Index]);

        public override bool MoveNext()
        {
            if (!main.MoveNext())
                return false;
            position++;
            if (outputActive && position >= batchStart + batchRows)
                NextBatch();
            return true;
        }

        private void NextBatch()
        {
            int buffer = pendingBuffer;
            int rows = pending is null ? Fill(buffer) : pending.GetAwaiter().GetResult();
            batchStart = position;
            batchRows = rows;
            // Read and decode the next batch while this one runs.
            pendingBuffer = 1 - buffer;
            int next = pendingBuffer;
            pending = rows == parent.BatchSize ? Task.Run(() => Fill(next)) : Task.FromResult(0);
            parent.Score(inputBuffers[buffer], rows, outputBuffer);
        }

        private int Fill(int buffer)
        {
            int rows = 0;
            while (rows < parent.BatchSize && MoveLookahead())
            {
                lookaheadPosition++;
                reader!.Read(lookaheadPosition, inputBuffers[buffer], rows);
                rows++;
            }
            return rows;
        }

        /// <summary>
        /// Advances the look-ahead cursor. ML.NET's parallel image cursors report a bad image from MoveNext (wrapped),
        /// not from the getter; name the row, and the file by re-reading the path column.
        /// </summary>
        private bool MoveLookahead()
        {
            try
            {
                return lookahead!.MoveNext();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                var (row, path) = ImagePipeline.FindUnreadableImage(input, parent.PathColumn, lookaheadPosition + 1);
                throw RowError(row, path, e);
            }
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index < inputCount)
                return main.GetGetter<TValue>(main.Schema[column.Index]);
            if (!outputActive)
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was created.");
            return OutputGetter<TValue>(column, () => outputBuffer.AsSpan((int)(position - batchStart) * parent.model.OutputLength, parent.model.OutputLength));
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                try
                {
                    pending?.Wait();
                }
                catch (AggregateException)
                {
                    // The failure belongs to a batch nobody asked for.
                }
                main.Dispose();
                lookahead?.Dispose();
            }
            base.Dispose(disposing);
        }
    }

    /// <summary>A getter of the output vector over the current row's outputs.</summary>
    private static ValueGetter<TValue> OutputGetter<TValue>(DataViewSchema.Column column, OutputRow row)
    {
        ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> dst) =>
        {
            var values = row();
            var editor = VBufferEditor.Create(ref dst, values.Length);
            values.CopyTo(editor.Values);
            dst = editor.Commit();
        };
        return getter as ValueGetter<TValue>
            ?? throw new InvalidOperationException($"Column '{column.Name}' has type {column.Type}; asked for {typeof(TValue).Name}.");
    }

    private delegate Span<float> OutputRow();

    /// <summary>One row at a time, for prediction engines and other row-to-row consumers.</summary>
    private sealed class RowMapper(BatchedModelTransformer parent, DataViewSchema inputSchema) : IRowToRowMapper
    {
        public DataViewSchema InputSchema { get; } = inputSchema;
        public DataViewSchema OutputSchema { get; } = parent.GetOutputSchema(inputSchema);

        public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
        {
            var columns = dependingColumns.Where(c => c.Index < InputSchema.Count).Select(c => InputSchema[c.Index]).ToList();
            if (dependingColumns.Any(c => c.Index >= InputSchema.Count))
                columns.Add(InputSchema[parent.InputColumn]);
            return columns.Distinct();
        }

        public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns) =>
            new MappedRow(parent, input, OutputSchema, activeColumns.Any(c => c.Index >= InputSchema.Count));
    }

    private sealed class MappedRow(BatchedModelTransformer parent, DataViewRow input, DataViewSchema schema, bool outputActive) : DataViewRow
    {
        private readonly float[] inputBuffer = new float[parent.model.InputLength];
        private readonly float[] outputBuffer = new float[parent.model.OutputLength];
        private RowReader? reader;
        private long scoredPosition = -1;

        public override DataViewSchema Schema => schema;
        public override long Position => input.Position;
        public override long Batch => input.Batch;
        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();
        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index >= input.Schema.Count ? outputActive : input.IsColumnActive(input.Schema[column.Index]);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index < input.Schema.Count)
                return input.GetGetter<TValue>(input.Schema[column.Index]);
            reader ??= new RowReader(parent, input, checkFiles: true);
            return OutputGetter<TValue>(column, () =>
            {
                if (scoredPosition != input.Position)
                {
                    reader.Read(input.Position, inputBuffer, 0);
                    parent.Score(inputBuffer, 1, outputBuffer);
                    scoredPosition = input.Position;
                }
                return outputBuffer;
            });
        }
    }
}
