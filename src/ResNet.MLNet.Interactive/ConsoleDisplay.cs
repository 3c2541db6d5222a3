using System.Collections;
using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.DotNet.Interactive.Formatting;

namespace ResNet.MLNet.Interactive;

/// <summary>
/// What <c>display(value)</c> does in the file-based apps generated from the notebooks: tables and values are printed as
/// plain text (the toolkit's types through the same formatters the notebooks use; sequences of objects and anonymous
/// objects as tables of their properties), and pictures are saved as SVG files under <c>output/&lt;app name&gt;/</c>
/// (relative to the working directory), with their path printed.
/// </summary>
public static class ConsoleDisplay
{
    private static int pictures;

    /// <summary>Prints <paramref name="value"/>, or saves it when it is a chart or a picture.</summary>
    public static void Show(object? value)
    {
        Formatters.Register();
        var picture = value switch
        {
            LineChart chart => Charts.Render(chart),
            SvgImage image => image,
            _ => null,
        };
        if (picture is not null)
        {
            string app = Assembly.GetEntryAssembly()?.GetName().Name ?? "app";
            string path = picture.Save(Path.Combine("output", app, $"figure-{Interlocked.Increment(ref pictures):00}.svg"));
            Console.WriteLine($"{picture} saved to {path}");
        }
        else
        {
            Console.WriteLine(Text(value));
        }
        Console.WriteLine();
    }

    private static string Text(object? value) => value switch
    {
        null => "<null>",
        string text => text,
        IEnumerable rows when IsPlainObject(ElementType(rows)) => Tables.OfRows(rows).ToText(),
        _ when IsAnonymous(value.GetType()) => Tables.OfProperties(value).ToText(),
        _ => value.ToDisplayString(PlainTextFormatter.MimeType),
    };

    private static Type? ElementType(IEnumerable rows) =>
        rows.GetType().GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];

    /// <summary>A type whose properties make a good table: anonymous types and records, not numbers, strings or collections.</summary>
    private static bool IsPlainObject(Type? type) =>
        type is not null && (IsAnonymous(type) || type.GetMethod("<Clone>$") is not null);

    private static bool IsAnonymous(Type type) =>
        type.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false) && type.Name.Contains("AnonymousType", StringComparison.Ordinal);
}
