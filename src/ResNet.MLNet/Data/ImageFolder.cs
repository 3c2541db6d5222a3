using System.IO.Enumeration;

namespace ResNet.MLNet.Data;

/// <summary>Options of <see cref="ImageFolder"/> and <c>LoadImagesFromFolder</c>.</summary>
public sealed class ImageFolderOptions
{
    /// <summary>File extensions counted as images (case-insensitive, with the dot). Default: .png .jpg .jpeg .bmp .gif .webp.</summary>
    public IReadOnlyCollection<string> Extensions { get; init; } = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];

    /// <summary>
    /// Sub-folder to read in a split layout (<c>folder/train/&lt;class&gt;/...</c>), e.g. "train" or "test"; null reads
    /// <c>folder/&lt;class&gt;/...</c> directly. Default null.
    /// </summary>
    public string? Split { get; init; }
}

/// <summary>One image of an image folder: its full path and its class (the name of the folder holding it).</summary>
/// <param name="ImagePath">Full path of the image file.</param>
/// <param name="Label">Name of the class folder.</param>
public sealed record ImageFolderEntry(string ImagePath, string Label);

/// <summary>
/// Lists an image-classification folder: one level of class folders, each holding images, directly or in sub-folders at
/// any depth (as torchvision's <c>ImageFolder</c> and fastai's <c>get_image_files</c> read them; the class is the
/// top-level folder). Hidden files and folders (names starting with '.', such as <c>.ipynb_checkpoints</c>) are skipped,
/// as fastai skips them. Linked class folders and linked files are read; linked folders inside a class are not entered
/// (one could lead back up the tree). Entries are ordered by class folder, then by path (ordinal), so every run sees the same order.
/// A folder that cannot be read fails the listing (naming it) instead of being left out.
/// </summary>
public static class ImageFolder
{
    private static readonly EnumerationOptions Visible = VisibleEntries(recurse: false), VisibleBelow = VisibleEntries(recurse: true);

    /// <summary>Hidden and system entries skipped; an unreadable folder throws instead of being passed over.</summary>
    private static EnumerationOptions VisibleEntries(bool recurse) => new()
    {
        AttributesToSkip = FileAttributes.Hidden | FileAttributes.System,
        IgnoreInaccessible = false,
        RecurseSubdirectories = recurse,
    };

    /// <summary>Lists the images below <paramref name="folder"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder (or its split sub-folder) does not exist.</exception>
    /// <exception cref="InvalidDataException">The folder holds no class folder with images.</exception>
    public static IReadOnlyList<ImageFolderEntry> List(string folder, ImageFolderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        options ??= new ImageFolderOptions();
        string root = Path.GetFullPath(options.Split is null ? folder : Path.Combine(folder, options.Split));
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException(options.Split is null
                ? $"Image folder '{root}' does not exist."
                : $"Image folder '{Path.GetFullPath(folder)}' has no '{options.Split}' sub-folder ('{root}' does not exist).");

        var extensions = new HashSet<string>(options.Extensions, StringComparer.OrdinalIgnoreCase);
        var entries = new List<ImageFolderEntry>();
        foreach (string classDir in ClassFolders(root))
        {
            string label = Path.GetFileName(classDir);
            entries.AddRange(Images(classDir, extensions).Order(StringComparer.Ordinal).Select(f => new ImageFolderEntry(f, label)));
        }
        if (entries.Count == 0)
            throw new InvalidDataException(
                $"Image folder '{root}' holds no images: expected class sub-folders containing files with extensions {string.Join(" ", extensions.Order())}.");
        return entries;
    }

    /// <summary>The class folders below <paramref name="folder"/> that hold no image, for error reports.</summary>
    public static IReadOnlyList<string> EmptyClasses(string folder, ImageFolderOptions? options = null)
    {
        options ??= new ImageFolderOptions();
        string root = Path.GetFullPath(options.Split is null ? folder : Path.Combine(folder, options.Split));
        var extensions = new HashSet<string>(options.Extensions, StringComparer.OrdinalIgnoreCase);
        return ClassFolders(root).Where(d => !Images(d, extensions).Any()).Select(Path.GetFileName).ToList()!;
    }

    private static IEnumerable<string> ClassFolders(string root) =>
        Directory.EnumerateDirectories(root, "*", Visible).Order(StringComparer.Ordinal);

    /// <summary>
    /// The images in <paramref name="classDir"/> and below, in the order the file system gives. Linked files are read, linked sub-folders are not
    /// entered: one could lead back up the tree (a cycle, or another class's images under this class's name).
    /// </summary>
    private static IEnumerable<string> Images(string classDir, HashSet<string> extensions) =>
        new FileSystemEnumerable<string>(classDir, (ref FileSystemEntry entry) => entry.ToFullPath(), VisibleBelow)
        {
            ShouldIncludePredicate = (ref FileSystemEntry entry) => !entry.IsDirectory && extensions.Contains(Path.GetExtension(entry.ToFullPath())),
            ShouldRecursePredicate = (ref FileSystemEntry entry) => (entry.Attributes & FileAttributes.ReparsePoint) == 0,
        };
}
