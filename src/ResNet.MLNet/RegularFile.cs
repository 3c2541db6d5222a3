namespace ResNet.MLNet;

/// <summary>
/// Refuses paths that are not regular files with data before anything opens them: opening a FIFO blocks until a writer
/// comes, and a device such as <c>/dev/zero</c> never ends. On Linux both report a size of 0, as does an empty file, which
/// no image or weight format accepts either. A symbolic link is judged by the file it leads to.
/// </summary>
internal static class RegularFile
{
    /// <summary>The file's length, after checking it exists, is not a directory and holds data.</summary>
    /// <param name="path">The file.</param>
    /// <param name="what">What the file should be, with its article, for the message ("an image", "a weights file").</param>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">It is a directory, a FIFO, a device or an empty file.</exception>
    public static long Check(string path, string what)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        if (Directory.Exists(path))
            throw new InvalidDataException($"'{full}' is not {what}: it is a directory.");
        var info = new FileInfo(path);
        if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo target)
        {
            // A link's own length is that of its target's name: the file's is the target's (Hugging Face's cache links every file).
            if (!target.Exists)
                throw new FileNotFoundException($"'{full}' is a link to '{target.FullName}', which does not exist.", path);
            info = target;
        }
        if (!info.Exists)
            throw new FileNotFoundException($"'{full}' does not exist.", path);
        if (info.Length == 0)
            throw new InvalidDataException($"'{full}' is not {what}: it is empty or not a regular file (FIFOs and devices are not read).");
        return info.Length;
    }
}
