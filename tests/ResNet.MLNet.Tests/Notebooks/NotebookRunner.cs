using System.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;
using ResNet.MLNet.Tests.TestSupport;

namespace ResNet.MLNet.Tests.Notebooks;

/// <summary>A code cell that ran: its outputs and how long it took.</summary>
internal sealed record CellRun(NotebookCell Cell, IReadOnlyList<CellOutput> Outputs, TimeSpan Elapsed);

/// <summary>A cell failed to compile or threw; the message names the notebook and the cell.</summary>
internal sealed class NotebookCellException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Runs a notebook's C# cells in order the way .NET Interactive does: each cell is one Roslyn script submission
/// continuing the state of the previous ones. <c>#r "nuget:"</c> lines become references to the assemblies this test
/// project was built with (see <see cref="PackageAssemblies"/>), a package's <c>extension.dib</c> runs after the cell
/// that loads it, as the kernel runs it, and <c>display(value)</c> records outputs through the formatters. The working
/// directory is the notebook's folder.
/// </summary>
internal static class NotebookRunner
{
    /// <summary>What the C# kernel and a file-based app both import by default: notebooks import anything else themselves.</summary>
    private static readonly string[] DefaultImports = ["System", "System.Collections.Generic", "System.Linq", "System.Text", "System.Threading.Tasks"];

    private static readonly Lazy<ScriptOptions> BaseOptions = new(() => ScriptOptions.Default
        .WithReferences(FrameworkAssemblies().Select(p => MetadataReference.CreateFromFile(p)))
        .AddReferences(typeof(NotebookGlobals).Assembly)
        .WithImports(DefaultImports)
        .WithLanguageVersion(LanguageVersion.Latest)
        .WithOptimizationLevel(OptimizationLevel.Release));

    /// <summary>Runs every code cell; <paramref name="quick"/> sets RESNET_MLNET_QUICK=1 for the notebook to read.</summary>
    /// <exception cref="NotebookCellException">A cell did not compile or threw.</exception>
    public static async Task<IReadOnlyList<CellRun>> RunAsync(NotebookDocument notebook, bool quick)
    {
        string previousDirectory = Environment.CurrentDirectory;
        string? previousQuick = Environment.GetEnvironmentVariable(Quick);
        var (previousOut, previousError) = (Console.Out, Console.Error);
        var globals = new NotebookGlobals();
        var runs = new List<CellRun>();
        try
        {
            Directory.SetCurrentDirectory(Path.GetDirectoryName(Path.GetFullPath(notebook.Path))!);
            Environment.SetEnvironmentVariable(Quick, quick ? "1" : "0");
            Console.SetOut(globals.Out);
            Console.SetError(globals.Error);

            var options = BaseOptions.Value.WithFilePath(notebook.Path);
            var referenced = new HashSet<string>(StringComparer.Ordinal);
            ScriptState<object>? state = null;
            int codeCell = 0;
            foreach (var cell in notebook.CodeCells)
            {
                codeCell++;
                string where = $"{notebook.Name}: cell {cell.Number} (code cell {codeCell})";
                if (cell.KernelName != "csharp")
                    throw new NotebookCellException($"{where} runs in the kernel '{cell.KernelName}'; the notebooks use C# cells only (kernelName \"csharp\").");
                var stopwatch = Stopwatch.StartNew();
                try
                {
                    var split = NotebookDirectives.Split(cell.Source);
                    var assemblies = split.Packages.SelectMany(p => PackageAssemblies.ForTestAssembly.Resolve(p.Name, p.Version)).Where(referenced.Add).ToList();
                    options = options.AddReferences(assemblies.Select(p => MetadataReference.CreateFromFile(p)));
                    state = state is null
                        ? await CSharpScript.RunAsync(split.Code, options, globals, typeof(NotebookGlobals))
                        : await state.ContinueWithAsync(split.Code, options);
                    if (state.ReturnValue is { } value)
                        globals.display(value); // a trailing expression, which the kernel displays
                    foreach (string extension in split.Packages.Select(p => ExtensionScript(p.Name)).OfType<string>())
                        state = await state.ContinueWithAsync(extension, options);
                }
                catch (CompilationErrorException e)
                {
                    throw new NotebookCellException($"{where} does not compile:\n" + string.Join("\n", e.Diagnostics.Select(Describe)));
                }
                catch (Exception e) when (e is not NotebookCellException)
                {
                    throw new NotebookCellException($"{where} threw {e.GetType().Name}: {e.Message}\n{Capture(globals)}", e);
                }
                runs.Add(new CellRun(cell, globals.TakeOutputs(), stopwatch.Elapsed));
            }
            return runs;
        }
        finally
        {
            Console.SetOut(previousOut);
            Console.SetError(previousError);
            Environment.SetEnvironmentVariable(Quick, previousQuick);
            Directory.SetCurrentDirectory(previousDirectory);
        }
    }

    private const string Quick = "RESNET_MLNET_QUICK";

    /// <summary>
    /// The C# of <c>src/&lt;package&gt;/extension.dib</c>, which the package ships in <c>interactive-extensions/dotnet</c> and
    /// the kernel runs when a notebook loads it; null for packages without one.
    /// </summary>
    internal static string? ExtensionScript(string package)
    {
        string path = Path.Combine(Repo.Root, "src", package, "extension.dib");
        if (!File.Exists(path))
            return null;
        // A .dib file is a sequence of "#!kernel" headers, each followed by that kernel's code.
        var code = new List<string>();
        bool csharp = false;
        foreach (string line in File.ReadLines(path))
        {
            if (line.StartsWith("#!", StringComparison.Ordinal))
                csharp = line.Trim() == "#!csharp";
            else if (csharp)
                code.Add(line);
        }
        return string.Join('\n', code);
    }

    private static string Describe(Diagnostic d)
    {
        var position = d.Location.GetLineSpan().StartLinePosition;
        return $"  line {position.Line + 1}, column {position.Character + 1}: {d.Id}: {d.GetMessage()}";
    }

    /// <summary>What the failing cell printed before it threw.</summary>
    private static string Capture(NotebookGlobals globals) =>
        string.Join("\n", globals.TakeOutputs().Where(o => o.Json["output_type"]?.GetValue<string>() == "stream")
            .SelectMany(o => o.Json["text"]!.AsArray().Select(l => l!.GetValue<string>().TrimEnd('\n'))).TakeLast(20));

    /// <summary>The global usings Microsoft.NET.Sdk adds to a console project (ImplicitUsings), for compiling code as a user's program.</summary>
    internal const string SdkImplicitUsings = "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; " +
                                              "global using System.Net.Http; global using System.Threading; global using System.Threading.Tasks;";

    /// <summary>The shared framework's assemblies (the trusted platform assemblies from the runtime's folder).</summary>
    internal static IEnumerable<string> FrameworkAssemblies()
    {
        string runtime = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        return ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetDirectoryName(p) == runtime && p.EndsWith(".dll", StringComparison.OrdinalIgnoreCase));
    }
}
