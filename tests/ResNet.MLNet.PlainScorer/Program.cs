// Usage: ResNet.MLNet.PlainScorer MODEL.zip IMAGES.txt COLUMN [COLUMN...]
// Loads MODEL.zip with mlContext.Model.Load, scores one row per line of IMAGES.txt (an image path, a tab, a label)
// and prints one JSON object per row with the requested output columns (float vectors, strings, keys as strings).
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;

if (args.Length < 3)
{
    Console.Error.WriteLine("usage: ResNet.MLNet.PlainScorer MODEL.zip IMAGES.txt COLUMN [COLUMN...]");
    return 2;
}
var ml = new MLContext(seed: 0);
var model = ml.Model.Load(args[0], out _);
var rows = File.ReadAllLines(args[1]).Select(l => l.Split('\t')).Select(p => new ImageRow { ImagePath = p[0], Label = p.Length > 1 ? p[1] : "" });
var scored = model.Transform(ml.Data.LoadFromEnumerable(rows));
// Prove the point: neither the toolkit, TorchSharp nor libtorch is in this process.
var loaded = AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name ?? "").Where(n => n is "ResNet.MLNet" or "TorchSharp").ToList();
if (File.Exists("/proc/self/maps"))
    loaded.AddRange(File.ReadLines("/proc/self/maps").Where(l => l.Contains("libtorch") || l.Contains("LibTorchSharp")).Select(l => l.Split(' ')[^1]).Distinct());
if (loaded.Count > 0)
{
    Console.Error.WriteLine("the plain scorer loaded " + string.Join(", ", loaded));
    return 3;
}
var columns = args.Skip(2).Select(name => scored.Schema[name]).ToList();
using var cursor = scored.GetRowCursor(columns);
var readers = columns.Select(c => Reader(cursor, c)).ToList();
while (cursor.MoveNext())
    Console.WriteLine(JsonSerializer.Serialize(columns.Select((c, i) => (c.Name, readers[i]())).ToDictionary(p => p.Name, p => p.Item2)));
return 0;

static Func<object> Reader(DataViewRowCursor cursor, DataViewSchema.Column column)
{
    switch (column.Type)
    {
        case VectorDataViewType { ItemType: NumberDataViewType n } when n.RawType == typeof(float):
        {
            var getter = cursor.GetGetter<VBuffer<float>>(column);
            return () => { VBuffer<float> v = default; getter(ref v); return v.DenseValues().ToArray(); };
        }
        case TextDataViewType:
        {
            var getter = cursor.GetGetter<ReadOnlyMemory<char>>(column);
            return () => { ReadOnlyMemory<char> v = default; getter(ref v); return v.ToString(); };
        }
        case KeyDataViewType:
        {
            var getter = cursor.GetGetter<uint>(column);
            VBuffer<ReadOnlyMemory<char>> names = default;
            column.GetKeyValues(ref names);
            var text = names.DenseValues().Select(n => n.ToString()).ToArray();
            return () => { uint k = 0; getter(ref k); return k == 0 ? "" : text[k - 1]; };
        }
        default:
            throw new NotSupportedException($"column {column.Name} has type {column.Type}");
    }
}

internal sealed class ImageRow
{
    public string ImagePath { get; set; } = "";
    public string Label { get; set; } = "";
}
