namespace ResNet.MLNet.Tests.TestSupport;

/// <summary>Paths of the committed fixtures, copied next to the test assembly.</summary>
internal static class Fixtures
{
    public static string Path(params string[] parts) =>
        System.IO.Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);
}

/// <summary>Paths inside the repository (the bundled data set, notebooks).</summary>
internal static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string SampleData => System.IO.Path.Combine(Root, "data", "fashion-mnist");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "ResNet.MLNet.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"No ResNet.MLNet.sln above {AppContext.BaseDirectory}.");
    }
}
