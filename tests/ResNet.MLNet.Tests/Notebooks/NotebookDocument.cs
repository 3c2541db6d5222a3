using System.Text.Json;
using System.Text.Json.Nodes;

namespace ResNet.MLNet.Tests.Notebooks;

/// <summary>One cell of a notebook: its position among all cells, its kind and its source text.</summary>
internal sealed record NotebookCell(int Number, string Kind, string Source, string? KernelName)
{
    public bool IsCode => Kind == "code";
}

/// <summary>What one displayed value or printed text looks like in a notebook's outputs (a Jupyter output object).</summary>
internal sealed record CellOutput(JsonObject Json);

/// <summary>
/// A Polyglot (.NET Interactive) notebook in Jupyter's nbformat 4: the cells in order, and the JSON document, so executed
/// outputs can be written back without touching anything else.
/// </summary>
internal sealed class NotebookDocument
{
    private readonly JsonObject root;

    private NotebookDocument(string path, JsonObject root, IReadOnlyList<NotebookCell> cells)
    {
        Path = path;
        this.root = root;
        Cells = cells;
    }

    public string Path { get; }

    /// <summary>The file name without extension, e.g. <c>01-featurize-and-linear-probe</c>.</summary>
    public string Name => System.IO.Path.GetFileNameWithoutExtension(Path);

    public IReadOnlyList<NotebookCell> Cells { get; }

    public IEnumerable<NotebookCell> CodeCells => Cells.Where(c => c.IsCode);

    /// <summary>The notebook-level metadata (kernelspec, polyglot_notebook).</summary>
    public JsonObject Metadata => root["metadata"]?.AsObject() ?? [];

    public int NbFormat => root["nbformat"]?.GetValue<int>() ?? 0;

    public static NotebookDocument Load(string path)
    {
        var root = JsonNode.Parse(File.ReadAllText(path))?.AsObject()
            ?? throw new InvalidDataException($"{path}: not a JSON object.");
        var cells = (root["cells"]?.AsArray() ?? throw new InvalidDataException($"{path}: no 'cells' array."))
            .Select((cell, i) => new NotebookCell(
                i + 1,
                cell!["cell_type"]?.GetValue<string>() ?? "",
                SourceText(cell["source"]),
                cell["metadata"]?["polyglot_notebook"]?["kernelName"]?.GetValue<string>()))
            .ToList();
        return new NotebookDocument(path, root, cells);
    }

    /// <summary>Writes <paramref name="path"/> with each code cell's outputs and execution count replaced.</summary>
    public void SaveWithOutputs(string path, IReadOnlyDictionary<int, IReadOnlyList<CellOutput>> outputs)
    {
        var copy = root.DeepClone().AsObject();
        int count = 0;
        foreach (var (cell, i) in copy["cells"]!.AsArray().Select((c, i) => (c!.AsObject(), i)))
        {
            if (cell["cell_type"]?.GetValue<string>() != "code")
                continue;
            bool ran = outputs.TryGetValue(i + 1, out var cellOutputs);
            cell["execution_count"] = ran ? ++count : null;
            cell["outputs"] = new JsonArray((cellOutputs ?? []).Select(o => (JsonNode)o.Json.DeepClone()).ToArray());
        }
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        File.WriteAllText(path, Serialize(copy));
    }

    /// <summary>Jupyter's layout: one-space indentation, non-ASCII kept, a final newline.</summary>
    public static string Serialize(JsonNode node) =>
        node.ToJsonString(new JsonSerializerOptions
        {
            WriteIndented = true,
            IndentSize = 1,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }) + "\n";

    /// <summary>Jupyter stores multi-line text as an array of lines, each but the last ending in a newline.</summary>
    public static JsonArray Lines(string text)
    {
        var lines = new JsonArray();
        int start = 0;
        while (start < text.Length)
        {
            int end = text.IndexOf('\n', start);
            end = end < 0 ? text.Length : end + 1;
            lines.Add(text[start..end]);
            start = end;
        }
        return lines;
    }

    private static string SourceText(JsonNode? source) => source switch
    {
        null => "",
        JsonArray lines => string.Concat(lines.Select(l => l!.GetValue<string>())),
        _ => source.GetValue<string>(),
    };
}
