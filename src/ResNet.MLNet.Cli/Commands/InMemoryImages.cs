using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace ResNet.MLNet.Cli.Commands;

/// <summary>
/// A data view of decoded images held in memory: one <c>Image</c> column (<see cref="MLImage"/>, what <c>LoadImages</c>
/// produces) over a list, so a pipeline can run without decoding files (ML.NET's <c>LoadFromEnumerable</c> does not
/// support <see cref="MLImage"/> members). Each row hands out a copy of its pixels: ML.NET's <c>ResizeImages</c> passes
/// an image that already has the target size through and disposes it at the next row, which would destroy the held
/// image. The view does not own the images.
/// </summary>
internal sealed class InMemoryImages : IDataView
{
    private readonly IReadOnlyList<MLImage> images;

    public InMemoryImages(IReadOnlyList<MLImage> images, int height, int width)
    {
        this.images = images;
        var builder = new DataViewSchema.Builder();
        builder.AddColumn("Image", new ImageDataViewType(height, width));
        Schema = builder.ToSchema();
    }

    public DataViewSchema Schema { get; }

    public bool CanShuffle => false;

    public long? GetRowCount() => images.Count;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(this, columnsNeeded.Any());

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor(InMemoryImages parent, bool active) : DataViewRowCursor
    {
        private long position = -1;
        private MLImage? handedOut;

        public override DataViewSchema Schema => parent.Schema;
        public override long Position => position;
        public override long Batch => 0;
        public override bool IsColumnActive(DataViewSchema.Column column) => active;

        public override bool MoveNext() => ++position < parent.images.Count;

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)position, 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            ValueGetter<MLImage> getter = (ref MLImage value) =>
            {
                var image = parent.images[(int)position];
                handedOut?.Dispose(); // the previous row's copy; consumers are done with it
                handedOut = MLImage.CreateFromPixels(image.Width, image.Height, image.PixelFormat, image.Pixels);
                value = handedOut;
            };
            return getter as ValueGetter<TValue> ?? throw new InvalidOperationException($"Column 'Image' holds MLImage; asked for {typeof(TValue).Name}.");
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                handedOut?.Dispose();
            base.Dispose(disposing);
        }
    }
}
