using ResNet.MLNet.Data;
using ResNet.MLNet.Explain;
using ResNet.MLNet.Models;
using ResNet.MLNet.Pictures;
using ResNet.MLNet.Training;

namespace ResNet.MLNet.Interactive;

/// <summary>A named line of a chart.</summary>
/// <param name="Name">Legend text.</param>
/// <param name="X">X values.</param>
/// <param name="Y">Y values, as many as <paramref name="X"/>.</param>
/// <param name="Dashed">Draw the line dashed, in the colour of the solid line before it (a validation curve next to its training curve).</param>
public sealed record Series(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, bool Dashed = false);

/// <summary>What <see cref="Charts.TrainingCurves"/> plots per epoch.</summary>
public enum TrainingCurve
{
    /// <summary>Training loss and validation loss.</summary>
    Loss,
    /// <summary>Training accuracy and validation accuracy.</summary>
    Accuracy,
    /// <summary>Training error and validation error in percent (100 x (1 - accuracy)), as the ResNet paper plots them.</summary>
    ErrorPercent,
}

/// <summary>One 2-D map (a channel of a feature map, or an image), row-major.</summary>
/// <param name="Title">Label drawn above the map.</param>
/// <param name="Height">Rows.</param>
/// <param name="Width">Columns.</param>
/// <param name="Values">Height x Width values, row by row.</param>
public sealed record FeatureMap(string Title, int Height, int Width, IReadOnlyList<float> Values);

/// <summary>A line chart made by <see cref="Charts"/>; a notebook displays it, <see cref="Charts.Render"/> sizes it.</summary>
public sealed class LineChart
{
    internal LineChart(LinePlot plot) => Plot = plot;

    internal LinePlot Plot { get; }

    /// <summary>The chart's title.</summary>
    public string Title => Plot.Title;

    /// <inheritdoc />
    public override string ToString() => $"[chart: {Title}]";
}

/// <summary>
/// Charts and pictures for notebooks, as SVG. They are drawn by the same code as the command-line tool's PNG files
/// (SkiaSharp, which ML.NET's image transforms load already), so a notebook and <c>resnet-mlnet finetune</c> show a
/// training run the same way.
/// </summary>
public static class Charts
{
    /// <summary>Default size of charts shown in notebooks.</summary>
    public const int DefaultWidth = 720, DefaultHeight = 400;

    /// <summary>A line chart of <paramref name="series"/> with markers (for short series), a grid and a legend.</summary>
    /// <param name="title">Chart title.</param>
    /// <param name="xLabel">X axis title.</param>
    /// <param name="yLabel">Y axis title.</param>
    /// <param name="series">The lines.</param>
    /// <param name="logY">Logarithmic y axis.</param>
    public static LineChart Lines(string title, string xLabel, string yLabel, IEnumerable<Series> series, bool logY = false)
    {
        ArgumentNullException.ThrowIfNull(series);
        var lines = new List<PlotLine>();
        int colour = -1;
        foreach (var s in series)
        {
            if (s.X.Count != s.Y.Count)
                throw new ArgumentException($"Series '{s.Name}' has {s.X.Count} x values and {s.Y.Count} y values.", nameof(series));
            if (!s.Dashed || colour < 0)
                colour++;
            lines.Add(new PlotLine(s.Name, s.X, s.Y, Ink.Palette[colour % Ink.Palette.Length], s.Dashed, Markers: !s.Dashed));
        }
        return new LineChart(new LinePlot(title, xLabel, yLabel, lines) { LogY = logY });
    }

    /// <summary>
    /// Per-epoch curves of several training runs on one chart: each run's training curve solid and its validation curve
    /// dashed, in the same colour.
    /// </summary>
    public static LineChart TrainingCurves(string title, IEnumerable<(string Name, TrainingResult Result)> runs, TrainingCurve curve = TrainingCurve.Loss)
    {
        ArgumentNullException.ThrowIfNull(runs);
        string label = curve switch { TrainingCurve.Loss => "loss", TrainingCurve.Accuracy => "accuracy", _ => "error (%)" };
        return new LineChart(Pictures.TrainingCurves.Plot(title, label, runs.Select(r => (r.Name, r.Result.History)).ToList(), (loss, accuracy) => curve switch
        {
            TrainingCurve.Loss => loss,
            TrainingCurve.Accuracy => accuracy,
            _ => 100 * (1 - accuracy),
        }));
    }

    /// <summary>The chart as an SVG picture of the given size.</summary>
    public static SvgImage Render(LineChart chart, int width = DefaultWidth, int height = DefaultHeight)
    {
        ArgumentNullException.ThrowIfNull(chart);
        return SvgImage.Of(chart.Plot.ToPicture(width, height), chart.Title);
    }

    /// <summary>Several charts side by side in one picture, each <paramref name="width"/> x <paramref name="height"/>.</summary>
    public static SvgImage SideBySide(IReadOnlyList<LineChart> charts, int width = 480, int height = 360)
    {
        ArgumentNullException.ThrowIfNull(charts);
        return SvgImage.Of(LinePlot.Row(charts.Select(c => c.Plot).ToList(), width, height), string.Join(" | ", charts.Select(c => c.Title)));
    }

    /// <summary>
    /// Maps as a grid of small pictures, <paramref name="columns"/> per row, each shown <paramref name="cellSize"/> pixels
    /// wide without smoothing and coloured with the viridis map over its own range (dark: low, yellow: high).
    /// </summary>
    public static SvgImage FeatureMaps(IReadOnlyList<FeatureMap> maps, int columns = 8, int cellSize = 96, string title = "feature maps")
    {
        ArgumentNullException.ThrowIfNull(maps);
        var tiles = maps.Select(map =>
        {
            if (map.Height < 1 || map.Width < 1 || map.Values.Count != map.Height * map.Width)
                throw new ArgumentException($"Map '{map.Title}' is {map.Height}x{map.Width} but has {map.Values.Count} values.", nameof(maps));
            return new GridTile(map.Width, map.Height, Colorize(map), [(map.Title, SkiaSharp.SKColors.Black)]);
        }).ToList();
        return SvgImage.Of(ImageGrid.Of(title, tiles, columns, cellSize, pixelated: true), title);
    }

    /// <summary>
    /// fastai's <c>plot_top_losses</c>: the <paramref name="count"/> highest-loss images of an interpretation, each under
    /// the Grad-CAM heatmap of its prediction, captioned with the actual class, the prediction and its probability, and the loss.
    /// </summary>
    /// <param name="interpretation">The scored images.</param>
    /// <param name="model">The network that scored them (explained with <see cref="GradCam.Explain"/>).</param>
    /// <param name="input">Its input description.</param>
    /// <param name="count">How many images.</param>
    /// <param name="columns">Images per row.</param>
    /// <param name="cellSize">Width of each picture in pixels.</param>
    public static SvgImage TopLosses(ClassificationInterpretation interpretation, ResNetModel model, ImageModelInput input, int count = 9, int columns = 3, int cellSize = 160)
    {
        ArgumentNullException.ThrowIfNull(interpretation);
        var classes = interpretation.Classes.ToList();
        var tiles = interpretation.TopLosses(count)
            .Select(image => (GradCam.Explain(model, ImageTensor.Load(image.ImagePath), input, classes.IndexOf(image.Predicted)).Overlay, image))
            .ToList();
        return SvgImage.Of(ImageGrid.TopLosses(tiles, columns, cellSize), $"top {tiles.Count} losses");
    }

    private static byte[] Colorize(FeatureMap map)
    {
        float min = map.Values.Min(), max = map.Values.Max();
        float range = max > min ? max - min : 1;
        var rgb = new byte[map.Values.Count * 3];
        for (int i = 0; i < map.Values.Count; i++)
        {
            var color = Ink.Viridis((map.Values[i] - min) / range);
            (rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]) = (color.Red, color.Green, color.Blue);
        }
        return rgb;
    }
}
