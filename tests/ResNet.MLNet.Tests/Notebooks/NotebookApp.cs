using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace ResNet.MLNet.Tests.Notebooks;

/// <summary>
/// Turns a notebook into a C# file-based app (<c>dotnet run app.cs</c>, .NET 10): <c>#r "nuget:"</c> lines become
/// <c>#:package</c> directives and <c>#i "nuget:"</c> sources a <c>RestoreAdditionalProjectSources</c> property; the
/// code cells follow in order as top-level statements, with their <c>using</c> directives gathered at the top and any type
/// declarations moved to the end (where C# requires them); markdown cells become comments. <c>display(value)</c> is a local
/// function that prints the value as text or saves a picture (<c>ResNet.MLNet.Interactive.ConsoleDisplay</c>), and the
/// app works in the notebook's folder, so the same relative paths hold.
/// </summary>
internal static class NotebookApp
{
    /// <summary>The apps' folder, below the notebooks' folder.</summary>
    public const string Folder = "apps";

    public static string PathFor(NotebookDocument notebook) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(notebook.Path))!, Folder, notebook.Name + ".cs");

    /// <exception cref="InvalidDataException">A cell ends in a bare expression (the app could not show it), or uses an unsupported directive.</exception>
    public static string Generate(NotebookDocument notebook)
    {
        string notebookDir = Path.GetDirectoryName(Path.GetFullPath(notebook.Path))!;
        string appDir = Path.Combine(notebookDir, Folder);
        var packages = new List<PackageDirective>();
        var sources = new List<string>();
        var usings = new List<string>();
        var types = new List<string>();
        var body = new StringBuilder();
        foreach (var cell in notebook.Cells)
        {
            if (!cell.IsCode)
            {
                body.AppendLine(string.Join('\n', cell.Source.TrimEnd().Split('\n').Select(l => ("// " + l).TrimEnd()))).AppendLine();
                continue;
            }
            var split = NotebookDirectives.Split(cell.Source);
            packages.AddRange(split.Packages.Where(p => !packages.Contains(p)));
            sources.AddRange(split.Sources.Select(s => Path.GetRelativePath(appDir, Path.GetFullPath(Path.Combine(notebookDir, s))).Replace('\\', '/')));
            string code = Rearrange(notebook, cell, split.Code, usings, types);
            if (code.Length > 0)
                body.AppendLine(code).AppendLine();
        }

        var app = new StringBuilder();
        string notebookFile = Path.GetFileName(notebook.Path);
        app.AppendLine($"// The code of notebooks/{notebookFile} as a C# file-based app (.NET 10): dotnet run notebooks/{Folder}/{notebook.Name}.cs");
        app.AppendLine("// Generated from the notebook by tests/ResNet.MLNet.Tests/Notebooks/NotebookApp.cs: edit the notebook, then regenerate with");
        app.AppendLine("//   RESNET_MLNET_UPDATE_APPS=1 dotnet test tests/ResNet.MLNet.Tests --filter \"FullyQualifiedName~NotebookFormatTests\"");
        app.AppendLine("// Set RESNET_MLNET_QUICK=1 for the quick mode. Pack the library into the local feed first (see notebooks/README.md).");
        foreach (var p in packages)
            app.AppendLine($"#:package {p.Name}@{p.Version}");
        if (sources.Count > 0)
            app.AppendLine($"#:property RestoreAdditionalProjectSources={string.Join(';', sources.Distinct())}");
        app.AppendLine("#:property PublishAot=false");
        app.AppendLine("#:property NoWarn=$(NoWarn);NU1603"); // a dependency resolved to a newer patch: harmless
        app.AppendLine();
        foreach (string u in usings)
            app.AppendLine(u);
        app.AppendLine();
        app.AppendLine("// The notebook runs in its own folder: so does the app, wherever it is started from.");
        app.AppendLine("Directory.SetCurrentDirectory(Path.GetDirectoryName((string)AppContext.GetData(\"EntryPointFileDirectoryPath\")!)!);");
        app.AppendLine();
        app.Append(body);
        app.AppendLine("// What display(value) shows in the notebook, printed as text here; charts and pictures are saved under output/.");
        app.AppendLine("static void display(object? value) => ResNet.MLNet.Interactive.ConsoleDisplay.Show(value);");
        foreach (string type in types)
            app.AppendLine().AppendLine(type);
        return app.ToString().Replace("\r\n", "\n");
    }

    /// <summary>The cell's code without its using directives (added to <paramref name="usings"/>) and type declarations (added to <paramref name="types"/>).</summary>
    private static string Rearrange(NotebookDocument notebook, NotebookCell cell, string code, List<string> usings, List<string> types)
    {
        var root = (CompilationUnitSyntax)CSharpSyntaxTree.ParseText(code, new CSharpParseOptions(LanguageVersion.Latest, kind: SourceCodeKind.Script)).GetRoot();
        if (root.Members.LastOrDefault() is GlobalStatementSyntax { Statement: ExpressionStatementSyntax { SemicolonToken.IsMissing: true } })
            throw new InvalidDataException($"{notebook.Name}: cell {cell.Number} ends in a bare expression; end it with display(...) so the app shows it too.");

        var removed = new List<TextSpan>();
        foreach (var u in root.Usings)
        {
            if (!usings.Contains(u.ToString()))
                usings.Add(u.ToString());
            removed.Add(u.Span);
        }
        foreach (var type in root.Members.Where(m => m is BaseTypeDeclarationSyntax or DelegateDeclarationSyntax))
        {
            types.Add(type.ToFullString().Trim());
            removed.Add(type.FullSpan);
        }
        var text = new StringBuilder(code);
        foreach (var span in removed.OrderByDescending(s => s.Start))
            text.Remove(span.Start, span.Length);
        var lines = text.ToString().Split('\n').Select(l => l.TrimEnd()).ToArray();
        return string.Join('\n', lines.Where((line, i) => line.Length > 0 || i == 0 || lines[i - 1].Length > 0)).Trim('\n');
    }
}
