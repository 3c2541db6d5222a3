namespace ResNet.MLNet.Tests.TestSupport;

/// <summary>Small image folders made of the bundled Fashion-MNIST sample, for tests that need a few real images.</summary>
internal static class SampleImages
{
    /// <summary>
    /// Copies the first <paramref name="perClass"/> test images of the classes bag and coat into
    /// <paramref name="root"/>/split/class/ for each of <paramref name="splits"/>, or into <paramref name="root"/>/class/
    /// when none is given; returns <paramref name="root"/>.
    /// </summary>
    public static string Folder(string root, int perClass, params string[] splits)
    {
        foreach (string split in splits.Length == 0 ? [""] : splits)
        {
            foreach (string cls in new[] { "bag", "coat" })
            {
                string target = Directory.CreateDirectory(Path.Combine(root, split, cls)).FullName;
                foreach (string image in Directory.GetFiles(Path.Combine(Repo.SampleData, "test", cls)).Order(StringComparer.Ordinal).Take(perClass))
                    File.Copy(image, Path.Combine(target, Path.GetFileName(image)));
            }
        }
        return root;
    }

    /// <summary>A class folder <paramref name="root"/>/<paramref name="name"/>/ of <paramref name="count"/> copies of one sample image.</summary>
    public static void Class(string root, string name, int count)
    {
        string source = Directory.GetFiles(Path.Combine(Repo.SampleData, "test", "bag")).Order(StringComparer.Ordinal).First();
        string dir = Directory.CreateDirectory(Path.Combine(root, name)).FullName;
        for (int i = 0; i < count; i++)
            File.Copy(source, Path.Combine(dir, $"{i:D2}.png"));
    }
}
