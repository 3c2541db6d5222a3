using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.DotNet.Interactive.Formatting;

namespace ResNet.MLNet.Tests.Notebooks;

/// <summary>
/// The globals of the notebook's script submissions: <c>display(value)</c>, as .NET Interactive's kernel provides it,
/// formatting values through the registered formatters (the package's extension registers them) into Jupyter outputs.
/// Text written to the console in a cell is kept too, in order with the displays.
/// </summary>
public sealed partial class NotebookGlobals
{
    private readonly List<CellOutput> outputs = [];
    private readonly StringWriter stdout = new();
    private readonly StringWriter stderr = new();

    /// <summary>Formats <paramref name="value"/> as HTML and plain text and records it as the cell's next output.</summary>
#pragma warning disable IDE1006 // the kernel's name, which notebooks call
    public void display(object? value)
#pragma warning restore IDE1006
    {
        FlushStreams();
        string text = value is null ? Formatter.NullString : value.ToDisplayString(PlainTextFormatter.MimeType);
        var data = new JsonObject();
        string? html = value?.ToDisplayString(HtmlFormatter.MimeType);
        // A picture is stored as image/svg+xml, which Jupyter and GitHub render; their sanitizers may strip a data-URI <img>.
        if (html is not null && InlineSvg().Match(html) is { Success: true } svg)
            data["image/svg+xml"] = NotebookDocument.Lines(Encoding.UTF8.GetString(Convert.FromBase64String(svg.Groups[1].Value)));
        else if (html is not null)
            data["text/html"] = NotebookDocument.Lines(html);
        data["text/plain"] = NotebookDocument.Lines(text);
        outputs.Add(new CellOutput(new JsonObject { ["output_type"] = "display_data", ["data"] = data, ["metadata"] = new JsonObject() }));
    }

    internal TextWriter Out => stdout;

    internal TextWriter Error => stderr;

    /// <summary>The outputs of the cell that just ran; the next cell starts empty.</summary>
    internal IReadOnlyList<CellOutput> TakeOutputs()
    {
        FlushStreams();
        var taken = outputs.ToList();
        outputs.Clear();
        return taken;
    }

    private void FlushStreams()
    {
        Flush(stdout, "stdout");
        Flush(stderr, "stderr");

        void Flush(StringWriter writer, string name)
        {
            StringBuilder text = writer.GetStringBuilder();
            if (text.Length == 0)
                return;
            outputs.Add(new CellOutput(new JsonObject { ["output_type"] = "stream", ["name"] = name, ["text"] = NotebookDocument.Lines(text.ToString()) }));
            text.Clear();
        }
    }

    [GeneratedRegex(@"^<img src=""data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)""[^>]*/>$")]
    private static partial Regex InlineSvg();
}
