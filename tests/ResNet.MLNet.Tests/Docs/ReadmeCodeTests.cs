using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using ResNet.MLNet.Models;
using ResNet.MLNet.Tests.Notebooks;
using ResNet.MLNet.Tests.TestSupport;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Tests.Docs;

/// <summary>
/// Every C# block of README.md, taken verbatim, compiles as a console program of a project that references the
/// package (with the SDK's implicit usings only, so each block shows the usings it needs) and runs without error in a
/// folder that holds the sample data. A comment on the line before a block can declare what it needs:
/// <c>&lt;!-- readme-test: needs FILE --&gt;</c> (made here, see <see cref="MakeFile"/>) or
/// <c>&lt;!-- readme-test: compile-only: REASON --&gt;</c> (it downloads, for example).
/// </summary>
public class ReadmeCodeTests
{
    public sealed record Block(int Line, string Code, string? CompileOnly, IReadOnlyList<string> Needs)
    {
        public override string ToString() => $"README.md:{Line}";
    }

    public static TheoryData<Block> Blocks()
    {
        var data = new TheoryData<Block>();
        foreach (var block in Parse(File.ReadAllText(Path.Combine(Repo.Root, "README.md"))))
            data.Add(block);
        return data;
    }

    internal static IEnumerable<Block> Parse(string markdown)
    {
        string[] lines = markdown.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimEnd() != "```csharp")
                continue;
            int start = i + 1, end = start;
            while (end < lines.Length && lines[end].TrimEnd() != "```")
                end++;
            string? compileOnly = null;
            var needs = new List<string>();
            for (int j = i - 1; j >= 0 && lines[j].StartsWith("<!-- readme-test:", StringComparison.Ordinal); j--)
            {
                var m = Regex.Match(lines[j], @"<!-- readme-test: (needs|compile-only):? (.+?) -->");
                Assert.True(m.Success, $"README.md:{j + 1}: unreadable test comment '{lines[j]}'");
                if (m.Groups[1].Value == "needs")
                    needs.Add(m.Groups[2].Value.Trim());
                else
                    compileOnly = m.Groups[2].Value.Trim();
            }
            yield return new Block(start, string.Join('\n', lines[start..end]), compileOnly, needs);
            i = end;
        }
    }

    [Fact]
    public void The_readme_has_csharp_blocks() => Assert.True(Parse(File.ReadAllText(Path.Combine(Repo.Root, "README.md"))).Count() >= 5);

    [Theory]
    [MemberData(nameof(Blocks))]
    public void Block_compiles_and_runs_as_written(Block block)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var compilation = CSharpCompilation.Create($"readme_{block.Line}",
            [CSharpSyntaxTree.ParseText(block.Code, parse, path: $"README.md:{block.Line}"), CSharpSyntaxTree.ParseText(NotebookRunner.SdkImplicitUsings, parse)],
            NotebookRunner.FrameworkAssemblies().Concat(PackageAssemblies()).Distinct().Select(p => MetadataReference.CreateFromFile(p)),
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        var errors = emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(emitted.Success, $"The C# block at README.md:{block.Line} does not compile:\n{string.Join("\n", errors)}");
        if (block.CompileOnly is not null)
            return;

        using var dir = new TempDirectory();
        Directory.CreateSymbolicLink(Path.Combine(dir.Path, "data"), Path.Combine(Repo.Root, "data"));
        foreach (string file in block.Needs)
            MakeFile(Path.Combine(dir.Path, file));
        var entry = Assembly.Load(image.ToArray()).EntryPoint!;
        string previous = Environment.CurrentDirectory;
        Environment.CurrentDirectory = dir.Path;
        try
        {
            entry.Invoke(null, entry.GetParameters().Length == 0 ? null : [Array.Empty<string>()]);
        }
        catch (TargetInvocationException e)
        {
            Assert.Fail($"The C# block at README.md:{block.Line} threw: {e.InnerException}");
        }
        finally
        {
            Environment.CurrentDirectory = previous;
        }
    }

    /// <summary>The files a block may declare: weights files of the architecture their name starts with, random but complete.</summary>
    private static void MakeFile(string path)
    {
        string name = Path.GetFileNameWithoutExtension(path);
        Assert.True(ResNetModels.Names.Contains(name), $"README blocks may need '<architecture>.pth' or '.safetensors'; '{Path.GetFileName(path)}' is unknown");
        using var model = ResNetModels.Build(name, 1000);
        WeightsFile.Write(path, NamedTensor.FromModel(model));
    }

    /// <summary>What a project referencing the ResNet.MLNet package compiles against: the managed assemblies next to the tests.</summary>
    internal static IEnumerable<string> PackageAssemblies(bool withLibrary = true) =>
        Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll").Where(p =>
        {
            string name = Path.GetFileName(p);
            if (name.StartsWith("ResNet.MLNet.Tests", StringComparison.Ordinal)
                || (!withLibrary && (name.StartsWith("ResNet.MLNet", StringComparison.Ordinal) || name == "resnet-mlnet.dll")))
                return false;
            try
            {
                AssemblyName.GetAssemblyName(p);
                return true;
            }
            catch (BadImageFormatException)
            {
                return false;
            }
        });
}
