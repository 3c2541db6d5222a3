using Microsoft.ML;
using ResNet.MLNet.Data;

namespace ResNet.MLNet;

/// <summary>Image-folder loading on <see cref="DataOperationsCatalog"/> (<c>mlContext.Data</c>).</summary>
public static class DataCatalogExtensions
{
    /// <summary>
    /// Loads an image-classification folder (one level of class folders) as an <see cref="IDataView"/> with columns
    /// <c>ImagePath</c> (string, full path) and <c>Label</c> (string, the class folder's name), ordered by class and
    /// then file name; files with other extensions are skipped.
    /// </summary>
    /// <param name="catalog">The data catalog.</param>
    /// <param name="folder">Folder holding class folders (or <c>train/</c>, <c>test/</c> sub-folders with <see cref="ImageFolderOptions.Split"/>).</param>
    /// <param name="options">Extensions and split; defaults as documented on <see cref="ImageFolderOptions"/>.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">The folder holds no images.</exception>
    public static IDataView LoadImagesFromFolder(this DataOperationsCatalog catalog, string folder, ImageFolderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return catalog.LoadImageRows(ImageFolder.List(folder, options));
    }

    /// <summary>Listed images as an <see cref="IDataView"/> with columns <c>ImagePath</c> and <c>Label</c>, in the given order.</summary>
    internal static IDataView LoadImageRows(this DataOperationsCatalog catalog, IEnumerable<ImageFolderEntry> entries) =>
        catalog.LoadFromEnumerable(entries.Select(e => new ImageRow { ImagePath = e.ImagePath, Label = e.Label }).ToList());

    private sealed class ImageRow
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
    }
}
