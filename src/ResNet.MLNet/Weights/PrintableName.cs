using System.Globalization;
using System.Text;

namespace ResNet.MLNet.Weights;

/// <summary>
/// Names and text that come from files (tensor keys, metadata, paths), made safe to print: control characters (C0, DEL,
/// C1, and the bidirectional overrides that reorder a terminal line) become <c>\xNN</c> / <c>\uNNNN</c>, so a name cannot
/// move the cursor, recolour or rewrite the terminal; and long names are cut, so one name cannot flood the output.
/// </summary>
internal static class PrintableName
{
    /// <summary>Longest name printed whole, in characters.</summary>
    public const int MaxLength = 160;

    /// <summary><paramref name="text"/> escaped and, beyond <paramref name="maxLength"/> characters, cut with a note of how much is left out.</summary>
    public static string Of(string text, int maxLength = MaxLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        string escaped = Escape(text.Length > maxLength ? text[..maxLength] : text, keepNewlines: false);
        return text.Length > maxLength ? $"{escaped}... ({text.Length - maxLength:N0} more characters)" : escaped;
    }

    /// <summary><paramref name="text"/> with its control characters escaped; newlines kept when <paramref name="keepNewlines"/>.</summary>
    public static string Escape(string text, bool keepNewlines)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Any(c => IsControl(c, keepNewlines)))
            return text;
        var builder = new StringBuilder(text.Length + 16);
        foreach (char c in text)
        {
            if (!IsControl(c, keepNewlines))
                builder.Append(c);
            else if (c <= 0xFF)
                builder.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:X2}");
            else
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
        }
        return builder.ToString();
    }

    private static bool IsControl(char c, bool keepNewlines) =>
        (c == '\n' ? !keepNewlines : char.IsControl(c)) || c is (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');
}
