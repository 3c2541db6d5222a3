using ResNet.MLNet.Applications;
using ResNet.MLNet;
using Spectre.Console;

namespace ResNet.MLNet.Cli;

/// <summary>Renders classification metrics: a summary, per-class figures and the confusion matrix.</summary>
internal static class MetricsView
{
    public static void Write(IAnsiConsole console, ClassificationMetrics metrics)
    {
        console.MarkupLine($"[bold]accuracy[/] {metrics.Accuracy:P1}   [bold]macro accuracy[/] {metrics.MacroAccuracy:P1}   [bold]log-loss[/] {metrics.LogLoss:F3}");
        var perClass = new Table().Title("per class");
        perClass.AddColumns("class", "precision", "recall", "images");
        foreach (var c in metrics.PerClass)
            perClass.AddRow(Markup.Escape(c.Class), $"{c.Precision:P1}", $"{c.Recall:P1}", $"{c.Support}");
        console.Write(perClass);

        var matrix = new Table().Title("confusion matrix (rows: true class, columns: predicted)");
        matrix.AddColumn("");
        for (int k = 0; k < metrics.Classes.Count; k++)
            matrix.AddColumn(new TableColumn(k.ToString()).RightAligned());
        for (int r = 0; r < metrics.Classes.Count; r++)
        {
            var cells = metrics.ConfusionMatrix[r].Select((n, c) => c == r ? $"[green]{n}[/]" : n == 0 ? "[grey].[/]" : $"{n}");
            matrix.AddRow([$"{r} {Markup.Escape(metrics.Classes[r])}", .. cells]);
        }
        console.Write(matrix);
    }
}
