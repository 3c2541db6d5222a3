using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using ResNet.MLNet.Data;

namespace ResNet.MLNet;

/// <summary>
/// The part of an image-model pipeline built from ML.NET's own image transforms: resize the image column, extract its
/// pixels as planar floats in [0, 1]. Using ML.NET's transforms (not ours) keeps the in-memory model and its saved,
/// plain-ML.NET twin on the same pixels.
/// </summary>
internal static class ImagePipeline
{
    /// <summary>Fails like ML.NET does when <paramref name="column"/> is missing or not an image column.</summary>
    public static void CheckImageColumn(Func<string, ColumnShape?> find, string column)
    {
        if (find(column) is not { } col)
            throw new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for input column '{column}': the column is missing.");
        if (col.ItemType is not ImageDataViewType || col.Kind != SchemaShape.Column.VectorKind.Scalar)
            throw new ArgumentOutOfRangeException("inputSchema",
                $"Schema mismatch for input column '{column}': expected Image (from mlContext.Transforms.LoadImages), got {col}.");
    }

    /// <summary>
    /// Resizes image column <paramref name="input"/> into <paramref name="resized"/> at the network's input size, by
    /// <see cref="ImageModelInput.ResizeMode"/> (converted to grayscale for one channel). ML.NET's resize scales straight
    /// to the input size: a larger <see cref="ImageModelInput.ResizeSize"/> (torchvision's 256 then crop 224) is not
    /// reproduced here (see README, preprocessing fidelity).
    /// </summary>
    public static IEstimator<ITransformer> Resize(TransformsCatalog transforms, string input, string resized, ImageModelInput modelInput)
    {
        int size = modelInput.ImageSize;
        var kind = modelInput.ResizeMode == ImageResizeMode.CenterCrop ? ImageResizingEstimator.ResizingKind.IsoCrop : ImageResizingEstimator.ResizingKind.Fill;
        var chain = transforms.ResizeImages(resized, size, size, input, kind, ImageResizingEstimator.Anchor.Center);
        return modelInput.Channels == 1 ? chain.Append(transforms.ConvertToGrayscale(resized, resized)) : chain;
    }

    /// <summary>An error naming the row and, when known, the image file at fault.</summary>
    public static InvalidDataException RowError(long row, string? path, Exception inner)
    {
        var innermost = inner;
        while (innermost.InnerException is not null)
            innermost = innermost.InnerException;
        return new InvalidDataException($"Could not read the image at row {row}{(path is null ? "" : $" ('{path}')")}: {innermost.Message}", inner);
    }

    /// <summary>
    /// Checks the header of every file named in <paramref name="pathColumn"/> (<see cref="ImageHeader.CheckAll(IEnumerable{string}, ImageLimits?)"/>) before
    /// ML.NET's image loader, which decodes whatever it is given, reads any of them. Only the text column is read; no
    /// image is decoded. Nothing is checked when the column is absent.
    /// </summary>
    /// <exception cref="InvalidDataException">Files are not regular, malformed, truncated or over <paramref name="limits"/>; each is named.</exception>
    public static void CheckImageFiles(IDataView input, string? pathColumn, ImageLimits limits)
    {
        if (pathColumn is null || input.Schema.GetColumnOrNull(pathColumn) is not { Type: TextDataViewType } column)
            return;
        var paths = new List<string>();
        var rows = new List<long>();
        using (var cursor = input.GetRowCursor([column]))
        {
            var getter = cursor.GetGetter<ReadOnlyMemory<char>>(column);
            ReadOnlyMemory<char> text = default;
            while (cursor.MoveNext())
            {
                getter(ref text);
                if (text.IsEmpty) // an empty path gives no image (zeros), as in ML.NET
                    continue;
                paths.Add(text.ToString());
                rows.Add(cursor.Position);
            }
        }
        ImageHeader.CheckAll(paths, limits, i => $"Could not read the image at row {rows[i]}");
    }

    /// <summary>
    /// Finds the row whose image file cannot be decoded, from <paramref name="fromRow"/> on, by reading the path column
    /// with a fresh cursor (ML.NET's parallel image cursors report failures ahead of the row they belong to).
    /// </summary>
    public static (long Row, string? Path) FindUnreadableImage(IDataView input, string? pathColumn, long fromRow)
    {
        if (pathColumn is null || input.Schema.GetColumnOrNull(pathColumn) is not { Type: TextDataViewType } column)
            return (fromRow, null);
        using var cursor = input.GetRowCursor([column]);
        var getter = cursor.GetGetter<ReadOnlyMemory<char>>(column);
        ReadOnlyMemory<char> text = default;
        while (cursor.MoveNext())
        {
            if (cursor.Position < fromRow)
                continue;
            getter(ref text);
            string path = text.ToString();
            try
            {
                using var image = MLImage.CreateFromFile(path);
            }
            catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                return (cursor.Position, path);
            }
        }
        return (fromRow, null);
    }

    /// <summary>
    /// ML.NET's pixel extraction of a resized image: planar floats in [0, 1], RGB (or the red channel of a grayscale
    /// image); <see cref="PlanarPixels"/> computes the same values. With <paramref name="asBytes"/>, the same as bytes
    /// 0–255 (for holding training images compactly).
    /// </summary>
    public static IEstimator<ITransformer> ExtractPixels(TransformsCatalog transforms, string resized, string pixels, int channels, bool asBytes = false)
    {
        float scale = asBytes ? 1f : 1f / 255;
        return channels == 1
            ? transforms.ExtractPixels(pixels, resized, ImagePixelExtractingEstimator.ColorBits.Red, interleavePixelColors: false,
                scaleImage: scale, outputAsFloatArray: !asBytes)
            : transforms.ExtractPixels(pixels, resized, ImagePixelExtractingEstimator.ColorBits.Rgb, ImagePixelExtractingEstimator.ColorsOrder.ARGB,
                interleavePixelColors: false, scaleImage: scale, outputAsFloatArray: !asBytes);
    }
}
