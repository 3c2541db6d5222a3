using System.Text.Json;

namespace ResNet.MLNet.Tests.Notebooks;

/// <summary>
/// Resolves a notebook's <c>#r "nuget: Name, Version"</c> to the assemblies this test project was built with, using its
/// <c>.deps.json</c>: the package's own runtime assemblies and those of everything it depends on, as NuGet would give a
/// notebook kernel. A version other than the one the test project uses is an error, which keeps the notebooks' pins
/// equal to Directory.Packages.props.
/// </summary>
internal sealed class PackageAssemblies
{
    private readonly Dictionary<string, (string Version, string[] Dependencies, string[] Runtime)> libraries = new(StringComparer.OrdinalIgnoreCase);

    private PackageAssemblies(string depsJson)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(depsJson));
        var targets = doc.RootElement.GetProperty("targets").EnumerateObject().First().Value;
        foreach (var library in targets.EnumerateObject())
        {
            string[] nameVersion = library.Name.Split('/');
            string[] dependencies = library.Value.TryGetProperty("dependencies", out var deps) ? deps.EnumerateObject().Select(d => d.Name).ToArray() : [];
            string[] runtime = library.Value.TryGetProperty("runtime", out var rt) ? rt.EnumerateObject().Select(r => Path.GetFileName(r.Name)).ToArray() : [];
            libraries[nameVersion[0]] = (nameVersion[1], dependencies, runtime);
        }
    }

    /// <summary>The resolver for the running test assembly.</summary>
    public static PackageAssemblies ForTestAssembly { get; } =
        new(Path.Combine(AppContext.BaseDirectory, typeof(PackageAssemblies).Assembly.GetName().Name + ".deps.json"));

    /// <summary>Full paths of the runtime assemblies of <paramref name="package"/> and its dependencies.</summary>
    /// <exception cref="InvalidOperationException">The test project does not use the package, or uses another version.</exception>
    public IReadOnlyList<string> Resolve(string package, string version)
    {
        if (!libraries.TryGetValue(package, out var library))
            throw new InvalidOperationException(
                $"The notebook references the package '{package}', which the test project does not use: reference it from tests/ResNet.MLNet.Tests.");
        if (library.Version != version)
            throw new InvalidOperationException(
                $"The notebook references {package} {version}, but the build uses {library.Version} (Directory.Packages.props): use the same version.");

        var files = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var pending = new Stack<string>([package]);
        while (pending.TryPop(out var name))
        {
            if (!seen.Add(name) || !libraries.TryGetValue(name, out var entry))
                continue; // a dependency the framework provides (pruned from the graph)
            files.AddRange(entry.Runtime.Select(f => Path.Combine(AppContext.BaseDirectory, f)).Where(File.Exists));
            foreach (string dependency in entry.Dependencies)
                pending.Push(dependency);
        }
        return files;
    }
}
