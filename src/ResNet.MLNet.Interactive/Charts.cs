using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;
using ResNet.MLNet.Data;
using ResNet.MLNet.Explain;
using ResNet.MLNet.Models;
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

/// <summary>
/// Charts for notebooks, drawn as SVG with OxyPlot (pure managed code: no native graphics library to clash with the
/// SkiaSharp that ML.NET's image transforms load). A <see cref="PlotModel"/> displays itself in a notebook; <see cref="Render"/>
/// sizes it.
/// </summary>
public static partial class Charts
{
    /// <summary>Default size of charts shown in notebooks.</summary>
    public const int DefaultWidth = 720, DefaultHeight = 400;

    private const string Font = "Arial, Liberation Sans, Helvetica, sans-serif";

    /// <summary>matplotlib's "tab10" colours, in order.</summary>
    private static readonly OxyColor[] Palette = new[] { "1f77b4", "ff7f0e", "2ca02c", "d62728", "9467bd", "8c564b", "e377c2", "7f7f7f", "bcbd22", "17becf" }
        .Select(hex => OxyColor.Parse("#" + hex)).ToArray();

    /// <summary>A line chart of <paramref name="series"/> with markers (for short series), a grid and a legend.</summary>
    /// <param name="title">Chart title.</param>
    /// <param name="xLabel">X axis title.</param>
    /// <param name="yLabel">Y axis title.</param>
    /// <param name="series">The lines.</param>
    /// <param name="logY">Logarithmic y axis.</param>
    public static PlotModel Lines(string title, string xLabel, string yLabel, IEnumerable<Series> series, bool logY = false)
    {
        ArgumentNullException.ThrowIfNull(series);
        var model = NewModel(title);
        model.Legends.Add(new Legend
        {
            LegendPosition = LegendPosition.RightTop,
            LegendBackground = OxyColor.FromAColor(220, OxyColors.White),
            LegendBorder = OxyColors.Gray,
        });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = xLabel, MajorGridlineStyle = LineStyle.Dot });
        model.Axes.Add(logY
            ? new LogarithmicAxis { Position = AxisPosition.Left, Title = yLabel, MajorGridlineStyle = LineStyle.Dot }
            : new LinearAxis { Position = AxisPosition.Left, Title = yLabel, MajorGridlineStyle = LineStyle.Dot });
        int colour = -1;
        foreach (var s in series)
        {
            if (s.X.Count != s.Y.Count)
                throw new ArgumentException($"Series '{s.Name}' has {s.X.Count} x values and {s.Y.Count} y values.", nameof(series));
            if (!s.Dashed || colour < 0)
                colour++;
            var line = new LineSeries
            {
                Title = s.Name,
                Color = Palette[colour % Palette.Length],
                StrokeThickness = 2,
                LineStyle = s.Dashed ? LineStyle.Dash : LineStyle.Solid,
                MarkerType = s.X.Count <= 40 && !s.Dashed ? MarkerType.Circle : MarkerType.None,
                MarkerSize = 3,
            };
            line.Points.AddRange(s.X.Zip(s.Y, (x, y) => new DataPoint(x, y)));
            model.Series.Add(line);
        }
        return model;
    }

    /// <summary>
    /// Per-epoch curves of several training runs on one chart: each run's training curve solid and its validation curve
    /// dashed, in the same colour.
    /// </summary>
    public static PlotModel TrainingCurves(string title, IEnumerable<(string Name, TrainingResult Result)> runs, TrainingCurve curve = TrainingCurve.Loss)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var series = new List<Series>();
        foreach (var (name, result) in runs)
        {
            double[] epochs = result.History.Select(e => (double)e.Epoch).ToArray();
            series.Add(new Series($"{name} train", epochs, result.History.Select(e => Value(e.TrainLoss, e.TrainAccuracy)).ToArray()));
            if (result.History.All(e => e.ValidationLoss is not null))
                series.Add(new Series($"{name} validation", epochs,
                    result.History.Select(e => Value(e.ValidationLoss!.Value, e.ValidationAccuracy!.Value)).ToArray(), Dashed: true));
        }
        string label = curve switch { TrainingCurve.Loss => "loss", TrainingCurve.Accuracy => "accuracy", _ => "error (%)" };
        return Lines(title, "epoch", label, series);

        double Value(double loss, double accuracy) => curve switch
        {
            TrainingCurve.Loss => loss,
            TrainingCurve.Accuracy => accuracy,
            _ => 100 * (1 - accuracy),
        };
    }

    /// <summary>An OxyPlot model rendered to SVG at the given size.</summary>
    public static SvgImage Render(PlotModel model, int width = DefaultWidth, int height = DefaultHeight)
    {
        ArgumentNullException.ThrowIfNull(model);
        var exporter = new SvgExporter
        {
            Width = width,
            Height = height,
            UseVerticalTextAlignmentWorkaround = true,
            TextMeasurer = new PixelTextMeasurer(width, height),
        };
        return new SvgImage(exporter.ExportToString(model), width, height, TitleOf(model));
    }

    /// <summary>Several charts side by side in one picture, each <paramref name="width"/> x <paramref name="height"/>.</summary>
    public static SvgImage SideBySide(IReadOnlyList<PlotModel> models, int width = 480, int height = 360)
    {
        ArgumentNullException.ThrowIfNull(models);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width * models.Count}\" height=\"{height}\">");
        for (int i = 0; i < models.Count; i++)
        {
            // Each chart becomes a nested <svg>; its clip-path ids get a prefix of their own so the charts do not share them.
            string inner = Render(models[i], width, height).Svg;
            inner = inner[inner.IndexOf("<svg", StringComparison.Ordinal)..];
            inner = ClipPathId().Replace(inner, $"c{i}-clipPath$1");
            svg.Append(CultureInfo.InvariantCulture, $"<svg x=\"{i * width}\" y=\"0\"").Append(inner["<svg".Length..]);
        }
        svg.Append("</svg>");
        return new SvgImage(svg.ToString(), width * models.Count, height, string.Join(" | ", models.Select(TitleOf)));
    }

    /// <summary>
    /// Maps as a grid of small pictures, <paramref name="columns"/> per row, each shown <paramref name="cellSize"/> pixels
    /// wide without smoothing and coloured with the viridis map over its own range (dark: low, yellow: high).
    /// </summary>
    public static SvgImage FeatureMaps(IReadOnlyList<FeatureMap> maps, int columns = 8, int cellSize = 96, string title = "feature maps")
    {
        ArgumentNullException.ThrowIfNull(maps);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        const int label = 16, gap = 6, heading = 24;
        var (svg, width, height) = Grid(maps.Count, ref columns, cellSize, cellSize + label, gap, heading, title);
        var viridis = OxyPalettes.Viridis(256);
        for (int i = 0; i < maps.Count; i++)
        {
            var map = maps[i];
            if (map.Values.Count != map.Height * map.Width)
                throw new ArgumentException($"Map '{map.Title}' is {map.Height}x{map.Width} but has {map.Values.Count} values.", nameof(maps));
            int x = gap + i % columns * (cellSize + gap), y = heading + i / columns * (cellSize + label + gap);
            int cellHeight = cellSize * map.Height / map.Width;
            string png = Convert.ToBase64String(Png.Encode(map.Width, map.Height, Colorize(map, viridis)));
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x}\" y=\"{y + label - 4}\" font-size=\"11\">{WebUtility.HtmlEncode(map.Title)}</text>");
            svg.Append(CultureInfo.InvariantCulture,
                $"<image x=\"{x}\" y=\"{y + label}\" width=\"{cellSize}\" height=\"{cellHeight}\" preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" href=\"data:image/png;base64,{png}\"/>");
        }
        svg.Append("</svg>");
        return new SvgImage(svg.ToString(), width, height, title);
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
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        const int caption = 36, gap = 10, heading = 24;
        var worst = interpretation.TopLosses(count);
        var (svg, width, height) = Grid(worst.Count, ref columns, cellSize, cellSize + caption, gap, heading,
            "top losses: actual / predicted (probability), Grad-CAM of the prediction");
        for (int i = 0; i < worst.Count; i++)
        {
            var image = worst[i];
            int predicted = interpretation.Classes.ToList().IndexOf(image.Predicted);
            var overlay = GradCam.Explain(model, ImageTensor.Load(image.ImagePath), input, predicted).Overlay;
            int x = gap + i % columns * (cellSize + gap), y = heading + i / columns * (cellSize + caption + gap);
            string png = Convert.ToBase64String(Png.Encode(overlay.Width, overlay.Height, overlay.ToRgbBytes()));
            svg.Append(CultureInfo.InvariantCulture,
                $"<image x=\"{x}\" y=\"{y}\" width=\"{cellSize}\" height=\"{cellSize * overlay.Height / overlay.Width}\" preserveAspectRatio=\"none\" href=\"data:image/png;base64,{png}\"/>");
            string colour = image.Actual == image.Predicted ? "black" : "#c62828";
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x}\" y=\"{y + cellSize + 14}\" font-size=\"11\" fill=\"{colour}\">{WebUtility.HtmlEncode($"{image.Actual} / {image.Predicted} ({image.ProbabilityOfPredicted:P0})")}</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x}\" y=\"{y + cellSize + 28}\" font-size=\"11\">{WebUtility.HtmlEncode($"loss {image.Loss:F2}")}</text>");
        }
        svg.Append("</svg>");
        return new SvgImage(svg.ToString(), width, height, $"top {worst.Count} losses");
    }

    /// <summary>
    /// The opening of a grid picture of <paramref name="count"/> cells (<paramref name="columns"/> per row, fewer when
    /// there are fewer cells): the svg element, a white background and the bold title.
    /// </summary>
    private static (StringBuilder Svg, int Width, int Height) Grid(int count, ref int columns, int cellWidth, int cellHeight, int gap, int heading, string title)
    {
        columns = Math.Min(columns, Math.Max(count, 1));
        int rows = (count + columns - 1) / columns;
        // At least as wide as the title (about 8.5 pixels per character of bold 14-pixel text).
        int width = Math.Max(columns * (cellWidth + gap) + gap, 2 * gap + (int)(8.5 * title.Length)), height = heading + rows * (cellHeight + gap) + gap;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"{Font}\">");
        svg.Append(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{gap}\" y=\"17\" font-size=\"14\" font-weight=\"bold\">{WebUtility.HtmlEncode(title)}</text>");
        return (svg, width, height);
    }

    /// <summary>The chart's title, or "chart".</summary>
    internal static string TitleOf(PlotModel model) => string.IsNullOrEmpty(model.Title) ? "chart" : model.Title;

    private static PlotModel NewModel(string title) => new()
    {
        Title = title,
        TitleFontSize = 15,
        DefaultFont = Font,
        DefaultFontSize = 12,
        Background = OxyColors.White,
    };

    private static byte[] Colorize(FeatureMap map, OxyPalette palette)
    {
        float min = map.Values.Min(), max = map.Values.Max();
        float range = max > min ? max - min : 1;
        var rgb = new byte[map.Values.Count * 3];
        for (int i = 0; i < map.Values.Count; i++)
        {
            var color = palette.Colors[(int)Math.Round((map.Values[i] - min) / range * (palette.Colors.Count - 1))];
            (rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]) = (color.R, color.G, color.B);
        }
        return rgb;
    }

    [GeneratedRegex(@"clipPath(\d+)")]
    private static partial Regex ClipPathId();

    /// <summary>
    /// OxyPlot's SVG exporter measures text with PDF font metrics, in points, while the SVG is drawn in pixels: text came
    /// out a quarter wider than measured and legends were cut. Measured in pixels (x 4/3), Arial-metric fonts fit.
    /// </summary>
    private sealed class PixelTextMeasurer(int width, int height) : PdfRenderContext(width, height, OxyColors.White)
    {
        public override OxySize MeasureText(string text, string fontFamily, double fontSize, double fontWeight)
        {
            var size = base.MeasureText(text, fontFamily, fontSize, fontWeight);
            return new OxySize(size.Width * 4 / 3, size.Height * 4 / 3);
        }
    }
}
