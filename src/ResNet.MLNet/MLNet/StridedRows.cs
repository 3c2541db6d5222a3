using Microsoft.ML;
using Microsoft.ML.Data;

namespace ResNet.MLNet;

/// <summary>
/// Every <c>stride</c>-th row of a data view (rows 0, stride, 2 x stride, ...). Skipped rows are only moved past, so
/// their lazy columns (decoded images) are never computed.
/// </summary>
internal sealed class StridedRows(IDataView input, long stride) : IDataView
{
    public DataViewSchema Schema => input.Schema;
    public bool CanShuffle => false;

    public long? GetRowCount() => input.GetRowCount() is { } n ? (n + stride - 1) / stride : null;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(input.GetRowCursor(columnsNeeded), stride);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor(DataViewRowCursor input, long stride) : DataViewRowCursor
    {
        private long position = -1;

        public override DataViewSchema Schema => input.Schema;
        public override long Position => position;
        public override long Batch => 0;
        public override bool IsColumnActive(DataViewSchema.Column column) => input.IsColumnActive(column);
        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => input.GetGetter<TValue>(column);
        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

        public override bool MoveNext()
        {
            for (long skip = position < 0 ? 0 : stride - 1; skip > 0; skip--)
            {
                if (!input.MoveNext())
                    return false;
            }
            if (!input.MoveNext())
                return false;
            position++;
            return true;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                input.Dispose();
            base.Dispose(disposing);
        }
    }
}
