using ResNet.MLNet.Applications;
using Microsoft.DotNet.Interactive.Formatting;
using Microsoft.ML.Data;
using ResNet.MLNet.Models;
using ResNet.MLNet.Training;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Interactive;

/// <summary>
/// Rich displays of the toolkit's types in .NET Interactive (Polyglot) notebooks: HTML tables for model summaries, weight
/// loading reports, training histories and ML.NET metrics, and inline SVG pictures for charts. The package registers
/// them by itself when a notebook loads it (<c>interactive-extensions/dotnet/extension.dib</c> calls <see cref="Register"/>);
/// elsewhere registering is harmless: it only adds entries to the formatter table of
/// Microsoft.DotNet.Interactive.Formatting.
/// </summary>
public static class Formatters
{
    private static readonly Lock Gate = new();
    private static bool registered;

    /// <summary>Registers the HTML and plain-text formatters once per process; later calls do nothing.</summary>
    public static void Register()
    {
        lock (Gate)
        {
            if (registered)
                return;
            registered = true;
        }
        RegisterTable<Table>(t => t);
        RegisterTable<ModelSummary>(Tables.Of);
        RegisterTable<LoadingReport>(Tables.Of);
        RegisterTable<TrainingResult>(Tables.Of);
        RegisterTable<MulticlassClassificationMetrics>(Tables.Of);
        RegisterTable<ConfusionMatrix>(m => Tables.Of(m));
        Formatter.Register<SvgImage>(image => image.ToHtml(), HtmlFormatter.MimeType);
        Formatter.Register<SvgImage>(image => image.ToString(), PlainTextFormatter.MimeType);
        Formatter.Register<LineChart>(chart => Charts.Render(chart).ToHtml(), HtmlFormatter.MimeType);
        Formatter.Register<LineChart>(chart => chart.ToString(), PlainTextFormatter.MimeType);
    }

    private static void RegisterTable<T>(Func<T, Table> table)
    {
        Formatter.Register<T>(value => table(value).ToHtml(), HtmlFormatter.MimeType);
        Formatter.Register<T>(value => table(value).ToText(), PlainTextFormatter.MimeType);
    }
}
