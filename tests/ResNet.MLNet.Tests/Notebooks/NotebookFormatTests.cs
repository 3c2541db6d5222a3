using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace ResNet.MLNet.Tests.Notebooks;

/// <summary>
/// Fast checks of the shipped notebooks, without running them: the Polyglot format, the package references, and the
/// file-based apps (generated from the notebooks, and compiling as programs).
/// </summary>
[Trait("Category", "Notebooks")]
public class NotebookFormatTests
{
    public static TheoryData<string> Notebooks => NotebookFiles.Names;

    [Fact]
    public void The_six_notebooks_are_there() =>
        Assert.Equal(
            ["01-featurize-and-linear-probe", "02-finetune-resnet34-vs-resnet50", "03-residual-vs-plain", "04-inside-the-network", "05-bring-pretrained-weights",
             "06-interpret-and-explain"],
            Notebooks.Select((object[] row) => (string)row[0]).ToArray());

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Stored_outputs_show_no_machine_paths_or_compiler_type_names(string name)
    {
        // What notebooks/clean_outputs.py removes after a run in an editor.
        string json = File.ReadAllText(Path.Combine(NotebookFiles.Folder, name + ".ipynb"));
        var outputs = System.Text.Json.Nodes.JsonNode.Parse(json)!["cells"]!.AsArray()
            .SelectMany(c => c!["outputs"]?.AsArray() ?? []).Select(o => o!.ToJsonString()).ToList();
        var absolute = new System.Text.RegularExpressions.Regex(@"(?<![\w.])/(work|home|tmp|root|Users|mnt)/");
        Assert.All(outputs, o =>
        {
            Assert.False(absolute.IsMatch(o), $"{name}: a stored output names a path of the machine that ran it (run notebooks/clean_outputs.py): {absolute.Match(o).Value}");
            Assert.DoesNotContain("f__AnonymousType", o);
            Assert.DoesNotContain("Iterator<", o);
        });
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Is_a_polyglot_CSharp_notebook(string name)
    {
        var notebook = NotebookFiles.Load(name);
        Assert.Equal(4, notebook.NbFormat);
        var kernelspec = notebook.Metadata["kernelspec"]!;
        Assert.Equal(".net-csharp", kernelspec["name"]!.GetValue<string>());
        Assert.Equal(".NET (C#)", kernelspec["display_name"]!.GetValue<string>());
        Assert.Equal("C#", kernelspec["language"]!.GetValue<string>());
        Assert.Equal("csharp", notebook.Metadata["polyglot_notebook"]!["kernelInfo"]!["defaultKernelName"]!.GetValue<string>());

        Assert.StartsWith("# ", notebook.Cells[0].Source);
        Assert.All(notebook.CodeCells, cell => Assert.Equal("csharp", cell.KernelName));
        Assert.Contains(notebook.Cells, cell => !cell.IsCode && cell.Source.Contains("RESNET_MLNET_QUICK", StringComparison.Ordinal));
        Assert.Contains(notebook.CodeCells, cell => cell.Source.Contains("Environment.GetEnvironmentVariable(\"RESNET_MLNET_QUICK\")", StringComparison.Ordinal));

        var first = NotebookDirectives.Split(notebook.CodeCells.First().Source);
        Assert.Equal(["../artifacts/packages"], first.Sources);
        Assert.Contains(new PackageDirective("ResNet.MLNet", "0.1.0"), first.Packages);
        Assert.Contains(new PackageDirective("ResNet.MLNet.Interactive", "0.1.0"), first.Packages);
        Assert.All(notebook.CodeCells.Skip(1), cell => Assert.Empty(NotebookDirectives.Split(cell.Source).Packages));
        Assert.All(notebook.CodeCells, cell => Assert.False(cell.Source.Split('\n').Any(line => line.StartsWith("using var ", StringComparison.Ordinal)),
            $"cell {cell.Number}: a using declaration at the top of a cell does not compile in a notebook (script) cell; use a using block."));
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void App_is_generated_from_the_notebook(string name)
    {
        var notebook = NotebookFiles.Load(name);
        string expected = NotebookApp.Generate(notebook);
        string path = NotebookApp.PathFor(notebook);
        if (Environment.GetEnvironmentVariable("RESNET_MLNET_UPDATE_APPS") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, expected);
        }
        Assert.True(File.Exists(path), $"{path} is missing: run this test with RESNET_MLNET_UPDATE_APPS=1 to generate it.");
        Assert.True(expected == File.ReadAllText(path),
            $"{path} differs from the code of {name}.ipynb: run this test with RESNET_MLNET_UPDATE_APPS=1 to regenerate it (never edit the app by hand).");
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void App_compiles_as_a_program(string name)
    {
        var notebook = NotebookFiles.Load(name);
        // What `dotnet run app.cs` compiles: the #: directives are the SDK's, the implicit usings are those of Microsoft.NET.Sdk.
        string app = string.Join('\n', NotebookApp.Generate(notebook).Split('\n').Select(l => l.StartsWith("#:", StringComparison.Ordinal) ? "" : l));
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var packages = notebook.CodeCells.SelectMany(c => NotebookDirectives.Split(c.Source).Packages)
            .SelectMany(p => PackageAssemblies.ForTestAssembly.Resolve(p.Name, p.Version));
        var compilation = CSharpCompilation.Create(name.Replace('-', '_'),
            [CSharpSyntaxTree.ParseText(app, parse, path: name + ".cs"), CSharpSyntaxTree.ParseText(NotebookRunner.SdkImplicitUsings, parse)],
            NotebookRunner.FrameworkAssemblies().Concat(packages).Distinct().Select(p => MetadataReference.CreateFromFile(p)),
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, $"notebooks/apps/{name}.cs does not compile:\n" + string.Join("\n", errors));
    }
}
