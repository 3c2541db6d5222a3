using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ResNet.MLNet.Tests.Notebooks;
using ResNet.MLNet.Tests.TestSupport;
using Xunit.Abstractions;

namespace ResNet.MLNet.Tests.Architecture;

/// <summary>
/// The library's layers depend downwards only (docs/ARCHITECTURE.md): its sources are compiled here with Roslyn, every
/// name in a file is resolved to the symbol it means, and a symbol declared in a higher layer's folder is a violation.
/// </summary>
public class LayeringTests(ITestOutputHelper output)
{
    /// <summary>Folders of src/ResNet.MLNet by layer, lowest first; a folder may use its own layer and those below.</summary>
    private static readonly string[][] Layers =
    [
        ["", "Native"],                 // UserMessages and the native loader
        ["Models", "Weights", "Onnx"],  // networks, weight files, ONNX
        ["Data"],                       // image files, decoding, torchvision-exact preprocessing
        ["Training"],                   // datasets, the trainer
        ["Explain"],                    // Grad-CAM, interpretation
        ["MLNet"],                      // estimators, transformers, catalog extensions
        ["Applications", "Pictures"],   // whole jobs over the estimators; charts and image grids of their results
    ];

    private static string Source => Path.Combine(Repo.Root, "src", "ResNet.MLNet");

    [Fact]
    public void Every_layer_depends_only_on_itself_and_the_layers_below()
    {
        var violations = Dependencies().Where(d => LayerOf(d.To) > LayerOf(d.From)).ToList();
        foreach (var d in violations)
            output.WriteLine($"{d.From} -> {d.To}: {d.File} uses {d.Symbol}");
        Assert.True(violations.Count == 0,
            "Upward dependencies:\n" + string.Join("\n", violations.Select(d => $"  {d.From} -> {d.To}: {d.File} uses {d.Symbol}").Distinct()));
    }

    [Fact]
    public void The_check_sees_dependencies()
    {
        // The analysis must find what is there, or the test above could not fail.
        var edges = Dependencies().Select(d => (d.From, d.To)).Distinct().ToList();
        Assert.Contains(("MLNet", "Training"), edges);
        Assert.Contains(("Training", "Models"), edges);
        Assert.All(Layers.SelectMany(l => l).Where(f => f != ""), folder => Assert.True(Directory.Exists(Path.Combine(Source, folder)), $"{folder} is gone"));
    }

    private static int LayerOf(string folder)
    {
        int layer = Array.FindIndex(Layers, l => l.Contains(folder));
        Assert.True(layer >= 0, $"The folder '{folder}' of src/ResNet.MLNet is in no layer: add it to {nameof(Layers)} and docs/ARCHITECTURE.md.");
        return layer;
    }

    private static string FolderOf(string path)
    {
        string relative = Path.GetRelativePath(Source, path);
        int slash = relative.IndexOf(Path.DirectorySeparatorChar);
        return slash < 0 ? "" : relative[..slash];
    }

    private sealed record Dependency(string From, string To, string File, string Symbol);

    private static List<Dependency> Dependencies()
    {
        var (compilation, trees) = Compile();
        var result = new List<Dependency>();
        foreach (var tree in trees.Where(t => t.FilePath.StartsWith(Source, StringComparison.Ordinal)))
        {
            string from = FolderOf(tree.FilePath);
            foreach (var symbol in Symbols(compilation, tree))
            {
                var declared = (symbol as ITypeSymbol ?? symbol.ContainingType)?.OriginalDefinition;
                if (declared?.Locations.FirstOrDefault(l => l.IsInSource)?.SourceTree?.FilePath is not { } path || !path.StartsWith(Source, StringComparison.Ordinal))
                    continue;
                string to = FolderOf(path);
                if (to != from)
                    result.Add(new Dependency(from, to, Path.GetRelativePath(Source, tree.FilePath), declared.ToDisplayString()));
            }
        }
        return result;
    }

    /// <summary>
    /// The library reaches ML.NET (and everything else) through public APIs only: no member is looked up by name, read or
    /// invoked by reflection (docs/ARCHITECTURE.md, "The MLContext"). Reading its own assembly's resources and version is allowed.
    /// </summary>
    [Fact]
    public void The_library_looks_up_no_member_by_reflection()
    {
        var (compilation, trees) = Compile();
        var uses = trees.Where(t => t.FilePath.StartsWith(Source, StringComparison.Ordinal))
            .SelectMany(t => ReflectionUses(compilation, t).Select(u => $"{Path.GetRelativePath(Source, t.FilePath)}: {u}"))
            .Distinct().ToList();
        Assert.True(uses.Count == 0, "Reflection in the library:\n  " + string.Join("\n  ", uses));
    }

    [Fact]
    public void The_reflection_check_sees_reflection()
    {
        var (compilation, _) = Compile();
        var probe = CSharpSyntaxTree.ParseText("""
            static class Probe
            {
                static object? Environment(object catalog) =>
                    catalog.GetType().GetInterfaces()[0].GetProperty("Environment")?.GetValue(catalog);
                static object? Make(System.Type type) => System.Activator.CreateInstance(type, nonPublic: true);
            }
            """, new CSharpParseOptions(LanguageVersion.Latest));
        var uses = ReflectionUses(compilation.AddSyntaxTrees(probe), probe);
        Assert.Equal(["System.Type.GetInterfaces()", "System.Type.GetProperty(string)", "System.Reflection.PropertyInfo.GetValue(object?)",
            "System.Activator.CreateInstance(System.Type, bool)"], uses);
    }

    /// <summary>
    /// Members that find, read, call or create by reflection: Type's member lookups, the methods of MemberInfo and its
    /// kin (a type's name for a message is no reflection), Activator.
    /// </summary>
    private static List<string> ReflectionUses(CSharpCompilation compilation, SyntaxTree tree) =>
        Symbols(compilation, tree)
            .Where(s => s is IMethodSymbol or IPropertySymbol && s.ContainingType is { } type && IsReflection(type, s.Name, s is IMethodSymbol))
            .Select(s => s.ToDisplayString())
            .ToList();

    private static bool IsReflection(INamedTypeSymbol type, string member, bool isMethod)
    {
        string name = type.ToDisplayString();
        if (name == "System.Activator")
            return true;
        if (name == "System.Type")
            return member.StartsWith("Get", StringComparison.Ordinal) && member is not ("GetType" or "GetTypeCode" or "GetHashCode")
                   || member == "InvokeMember";
        return isMethod && name is "System.Reflection.MemberInfo" or "System.Reflection.MethodBase" or "System.Reflection.MethodInfo"
            or "System.Reflection.ConstructorInfo" or "System.Reflection.PropertyInfo" or "System.Reflection.FieldInfo"
            or "System.Reflection.EventInfo";
    }

    /// <summary>The symbol every simple name of <paramref name="tree"/> resolves to (or its first candidate).</summary>
    private static IEnumerable<ISymbol> Symbols(CSharpCompilation compilation, SyntaxTree tree)
    {
        var model = compilation.GetSemanticModel(tree);
        foreach (var name in tree.GetRoot().DescendantNodes().OfType<SimpleNameSyntax>())
        {
            var info = model.GetSymbolInfo(name);
            if ((info.Symbol ?? info.CandidateSymbols.FirstOrDefault()) is { } symbol)
                yield return symbol;
        }
    }

    /// <summary>The library's sources compiled against the framework and its packages.</summary>
    private static (CSharpCompilation Compilation, List<SyntaxTree> Trees) Compile()
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var trees = Directory.EnumerateFiles(Source, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), parse, path: f))
            .Append(CSharpSyntaxTree.ParseText(NotebookRunner.SdkImplicitUsings, parse))
            .ToList();
        var compilation = CSharpCompilation.Create("layering", trees,
            NotebookRunner.FrameworkAssemblies().Concat(Docs.ReadmeCodeTests.PackageAssemblies(withLibrary: false)).Distinct().Select(p => MetadataReference.CreateFromFile(p)),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));
        // Source generators (regular expressions) and build-only references do not run here; the few names they declare
        // stay unresolved, which cannot hide a dependency between the library's own folders or a use of reflection.
        return (compilation, trees);
    }
}
