using ResNet.MLNet.Tests.TestSupport;

namespace ResNet.MLNet.Tests.Notebooks;

/// <summary>The shipped notebooks (notebooks/*.ipynb), by name, for theories.</summary>
internal static class NotebookFiles
{
    public static string Folder => Path.Combine(Repo.Root, "notebooks");

    public static TheoryData<string> Names
    {
        get
        {
            var names = new TheoryData<string>();
            foreach (string path in Directory.GetFiles(Folder, "*.ipynb").Order(StringComparer.Ordinal))
                names.Add(Path.GetFileNameWithoutExtension(path));
            return names;
        }
    }

    public static NotebookDocument Load(string name) => NotebookDocument.Load(Path.Combine(Folder, name + ".ipynb"));
}
