using System.Globalization;
using System.Net;
using System.Text;

namespace ResNet.MLNet.Interactive;

/// <summary>One cell of a <see cref="Table"/>: its text, whether it is a number (right-aligned), and an optional shade from 0 to 1.</summary>
/// <param name="Text">The text shown.</param>
/// <param name="Numeric">Right-align the cell.</param>
/// <param name="Shade">Background intensity from 0 (none) to 1 (full), for heat maps such as confusion matrices; HTML only.</param>
public sealed record TableCell(string Text, bool Numeric = false, double? Shade = null)
{
    /// <summary>A text cell.</summary>
    public static implicit operator TableCell(string text) => new(text);
}

/// <summary>
/// A small table that renders as HTML (for notebooks) and as aligned plain text (for consoles and file-based apps).
/// Every rich display of the toolkit's types is one of these, so the notebook and the console show the same rows.
/// </summary>
/// <param name="Caption">Shown above the table; null for none.</param>
/// <param name="Header">Column names.</param>
/// <param name="Rows">Rows of cells, as many as <paramref name="Header"/> has columns.</param>
/// <param name="Notes">Lines shown below the table.</param>
public sealed record Table(string? Caption, IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<TableCell>> Rows, IReadOnlyList<string>? Notes = null)
{
    /// <summary>A number cell with a thousands separator (invariant culture).</summary>
    public static TableCell Count(long value) => new(value.ToString("N0", CultureInfo.InvariantCulture), Numeric: true);

    /// <summary>A number cell with <paramref name="format"/> (invariant culture).</summary>
    public static TableCell Number(double value, string format = "0.0000") => new(value.ToString(format, CultureInfo.InvariantCulture), Numeric: true);

    /// <summary>The table as an HTML fragment with inline styles (no script, no external CSS).</summary>
    public string ToHtml()
    {
        var html = new StringBuilder();
        html.Append("<div class=\"resnet-mlnet\">");
        if (Caption is not null)
            html.Append("<div style=\"font-weight:bold;margin:4px 0\">").Append(Encode(Caption)).Append("</div>");
        html.Append("<table style=\"border-collapse:collapse\"><thead><tr>");
        foreach (string h in Header)
            html.Append("<th style=\"padding:2px 8px;border-bottom:1px solid #888;text-align:left\">").Append(Encode(h)).Append("</th>");
        html.Append("</tr></thead><tbody>");
        foreach (var row in Rows)
        {
            html.Append("<tr>");
            foreach (var cell in row)
            {
                html.Append("<td style=\"padding:2px 8px");
                if (cell.Numeric)
                    html.Append(";text-align:right;font-variant-numeric:tabular-nums");
                if (cell.Shade is double shade && shade > 0)
                    html.Append(CultureInfo.InvariantCulture, $";background:rgba(31,119,180,{Math.Clamp(shade, 0, 1) * 0.85:0.###})");
                html.Append("\">").Append(Encode(cell.Text)).Append("</td>");
            }
            html.Append("</tr>");
        }
        html.Append("</tbody></table>");
        foreach (string note in Notes ?? [])
            html.Append("<div style=\"margin:2px 0;color:#666\">").Append(Encode(note)).Append("</div>");
        return html.Append("</div>").ToString();
    }

    /// <summary>The table as aligned plain text.</summary>
    public string ToText()
    {
        int columns = Header.Count;
        var widths = new int[columns];
        for (int c = 0; c < columns; c++)
            widths[c] = Rows.Select(r => c < r.Count ? r[c].Text.Length : 0).Append(Header[c].Length).Max();
        var text = new StringBuilder();
        if (Caption is not null)
            text.AppendLine(Caption);
        AppendRow(Header.Select(h => new TableCell(h)).ToList());
        text.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in Rows)
            AppendRow(row);
        foreach (string note in Notes ?? [])
            text.AppendLine(note);
        return text.ToString().TrimEnd();

        void AppendRow(IReadOnlyList<TableCell> row)
        {
            var cells = row.Select((cell, c) => cell.Numeric ? cell.Text.PadLeft(widths[c]) : cell.Text.PadRight(widths[c]));
            text.AppendLine(string.Join("  ", cells).TrimEnd());
        }
    }

    /// <inheritdoc />
    public override string ToString() => ToText();

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
