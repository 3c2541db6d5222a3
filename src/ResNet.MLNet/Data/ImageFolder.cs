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
/// Lists an image-classification folder: one level of class folders, each holding images. Entries are ordered by class
/// folder, then by file name (ordinal), so every run sees the same order.
/// </summary>
public static class ImageFolder
{
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
        foreach (string classDir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            string label = Path.GetFileName(classDir);
            entries.AddRange(Directory.GetFiles(classDir)
                .Where(f => extensions.Contains(Path.GetExtension(f)))
                .Order(StringComparer.Ordinal)
                .Select(f => new ImageFolderEntry(f, label)));
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
        return Directory.GetDirectories(root).Order(StringComparer.Ordinal)
            .Where(d => !Directory.EnumerateFiles(d).Any(f => extensions.Contains(Path.GetExtension(f))))
            .Select(Path.GetFileName).ToList()!;
    }
}
