using System.Globalization;
using SkiaSharp;

namespace ResNet.MLNet.Pictures;

/// <summary>One line of a <see cref="LinePlot"/>.</summary>
/// <param name="Label">Legend text; an empty label has no legend entry.</param>
/// <param name="X">X values.</param>
/// <param name="Y">Y values, as many as <paramref name="X"/>; points that are not finite (or not positive on a log axis) are left out.</param>
/// <param name="Color">Colour.</param>
/// <param name="Dashed">Dashed (a held-out curve next to its training curve) rather than solid.</param>
/// <param name="Markers">Dots on the points, for short series.</param>
internal sealed record PlotLine(string Label, IReadOnlyList<double> X, IReadOnlyList<double> Y, SKColor Color, bool Dashed = false, bool Markers = true);

/// <summary>A marked point with a legend entry (a suggestion on the learning-rate curve).</summary>
internal sealed record PlotMark(double X, double Y, SKColor Color, string Label);

/// <summary>
/// A line chart: title, then the legend in its own band (so it never covers a line), round-number ticks on linear axes and
/// decades on logarithmic ones, a light grid, and the lines clipped to the plot. Every chart of the toolkit is one of these,
/// or a row of them.
/// </summary>
internal sealed record LinePlot(string Title, string XLabel, string YLabel, IReadOnlyList<PlotLine> Lines)
{
    private const float Left = 66, Right = 24, Bottom = 44, LegendRow = 20;

    /// <summary>Logarithmic x axis.</summary>
    public bool LogX { get; init; }

    /// <summary>Logarithmic y axis.</summary>
    public bool LogY { get; init; }

    /// <summary>Y values above this are drawn at it (the learning-rate finder's explosion would flatten the descent).</summary>
    public double? YCeiling { get; init; }

    /// <summary>Points marked with a dot and a legend entry.</summary>
    public IReadOnlyList<PlotMark> Marks { get; init; } = [];

    /// <summary>The chart alone, <paramref name="width"/> x <paramref name="height"/>.</summary>
    public Picture ToPicture(int width, int height) => Row([this], width, height);

    /// <summary>Charts side by side, each <paramref name="panelWidth"/> x <paramref name="height"/>.</summary>
    public static Picture Row(IReadOnlyList<LinePlot> plots, int panelWidth, int height) =>
        new(panelWidth * plots.Count, height, canvas =>
        {
            for (int i = 0; i < plots.Count; i++)
                plots[i].Draw(canvas, SKRect.Create(i * panelWidth, 0, panelWidth, height));
        });

    /// <summary>Draws the chart in <paramref name="area"/>.</summary>
    public void Draw(SKCanvas canvas, SKRect area)
    {
        foreach (var line in Lines)
            if (line.X.Count != line.Y.Count)
                throw new ArgumentException($"Line '{line.Label}' has {line.X.Count} x values and {line.Y.Count} y values.");
        using var font = Ink.Font(13);
        using var bold = Ink.Font(15, bold: true);
        using var ink = Ink.Fill(SKColors.Black);
        using var grid = new SKPaint { Color = new SKColor(0, 0, 0, 28), StrokeWidth = 1 };
        using var axis = new SKPaint { Color = SKColors.Gray, StrokeWidth = 1 };

        var legend = LegendLayout(font, area.Width - Left - Right);
        int legendRows = legend.Count == 0 ? 0 : legend[^1].Row + 1;
        var plot = new SKRect(area.Left + Left, area.Top + 34 + legendRows * LegendRow + 8, area.Right - Right, area.Bottom - Bottom);
        var xs = Lines.SelectMany(l => l.X).Concat(Marks.Select(m => m.X));
        var ys = Lines.SelectMany(l => l.Y).Concat(Marks.Select(m => m.Y)).Select(Clamp);
        var (xAxis, yAxis) = (Axis.Of(xs, LogX), Axis.Of(ys, LogY));
        float X(double x) => (float)(plot.Left + xAxis.Fraction(x) * plot.Width);
        float Y(double y) => (float)(plot.Bottom - yAxis.Fraction(y) * plot.Height);

        canvas.DrawText(Ink.Fit(Title, bold, area.Right - 8 - plot.Left), plot.Left, area.Top + 22, SKTextAlign.Left, bold, ink);
        foreach (var tick in yAxis.Marks)
        {
            canvas.DrawLine(plot.Left, Y(tick.Value), plot.Right, Y(tick.Value), grid);
            canvas.DrawText(tick.Label, plot.Left - 6, Y(tick.Value) + 5, SKTextAlign.Right, font, ink);
        }
        foreach (var tick in xAxis.Marks)
        {
            if (LogX)
                canvas.DrawLine(X(tick.Value), plot.Top, X(tick.Value), plot.Bottom, grid);
            canvas.DrawText(tick.Label, X(tick.Value), plot.Bottom + 18, SKTextAlign.Center, font, ink);
        }
        canvas.DrawLine(plot.Left, plot.Bottom, plot.Right, plot.Bottom, axis);
        canvas.DrawLine(plot.Left, plot.Top, plot.Left, plot.Bottom, axis);
        canvas.DrawText(XLabel, plot.MidX, area.Bottom - 8, SKTextAlign.Center, font, ink);
        canvas.Save();
        canvas.RotateDegrees(-90, area.Left + 16, plot.MidY);
        canvas.DrawText(YLabel, area.Left + 16, plot.MidY, SKTextAlign.Center, font, ink);
        canvas.Restore();

        canvas.Save();
        canvas.ClipRect(SKRect.Inflate(plot, 4, 4));
        foreach (var line in Lines)
        {
            using var pen = Pen(line);
            using var dot = Ink.Fill(line.Color);
            using var path = new SKPath();
            bool drawing = false;
            for (int i = 0; i < line.X.Count; i++)
            {
                if (!xAxis.Holds(line.X[i]) || !yAxis.Holds(line.Y[i]))
                {
                    drawing = false;
                    continue;
                }
                var point = new SKPoint(X(line.X[i]), Y(Clamp(line.Y[i])));
                if (drawing) path.LineTo(point); else path.MoveTo(point);
                drawing = true;
                if (line.Markers && line.X.Count <= 40)
                    canvas.DrawCircle(point, 3, dot);
            }
            canvas.DrawPath(path, pen);
        }
        foreach (var mark in Marks.Where(m => xAxis.Holds(m.X) && yAxis.Holds(m.Y)))
        {
            using var dot = Ink.Fill(mark.Color);
            canvas.DrawCircle(X(mark.X), Y(Clamp(mark.Y)), 6, dot);
        }
        canvas.Restore();

        foreach (var entry in legend)
        {
            float x = plot.Left + entry.X, y = area.Top + 34 + entry.Row * LegendRow + 12;
            if (entry.Line is { } line)
            {
                using var pen = Pen(line);
                canvas.DrawLine(x, y - 5, x + 26, y - 5, pen);
            }
            else
            {
                using var dot = Ink.Fill(entry.Mark!.Color);
                canvas.DrawCircle(x + 13, y - 5, 5, dot);
            }
            canvas.DrawText(entry.Text, x + 32, y, SKTextAlign.Left, font, ink);
        }
    }

    private double Clamp(double y) => YCeiling is { } ceiling && y > ceiling ? ceiling : y;

    private static SKPaint Pen(PlotLine line) => new()
    {
        Color = line.Color, StrokeWidth = 2.5f, IsAntialias = true, Style = SKPaintStyle.Stroke,
        PathEffect = line.Dashed ? SKPathEffect.CreateDash([8, 5], 0) : null,
    };

    private sealed record LegendEntry(string Text, PlotLine? Line, PlotMark? Mark, float X, int Row);

    /// <summary>Legend entries left to right, wrapped onto further rows when they would pass <paramref name="width"/>.</summary>
    private List<LegendEntry> LegendLayout(SKFont font, float width)
    {
        var entries = new List<LegendEntry>();
        float x = 0;
        int row = 0;
        var items = Lines.Where(l => l.Label.Length > 0).Select(l => (l.Label, (PlotLine?)l, (PlotMark?)null))
            .Concat(Marks.Select(m => (m.Label, (PlotLine?)null, (PlotMark?)m)));
        foreach (var (text, line, mark) in items)
        {
            float entryWidth = 32 + font.MeasureText(text) + 20;
            if (x > 0 && x + entryWidth > width)
                (x, row) = (0, row + 1);
            entries.Add(new LegendEntry(text, line, mark, x, row));
            x += entryWidth;
        }
        return entries;
    }

    /// <summary>About five round-number ticks (1, 2 or 5 times a power of ten) covering [min, max].</summary>
    internal static double[] Ticks(double min, double max)
    {
        if (!(max - min > 1e-12))
            (min, max) = (min - 0.5, max + 0.5);
        double raw = (max - min) / 5, power = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2, 5, 10 }.Select(m => m * power).First(s => s >= raw);
        double start = Math.Floor(min / step + 1e-9) * step, end = Math.Ceiling(max / step - 1e-9) * step;
        int count = (int)Math.Round((end - start) / step);
        return Enumerable.Range(0, count + 1).Select(i => Math.Round(start + i * step, 12)).ToArray();
    }

    private sealed record Tick(double Value, string Label);

    /// <summary>An axis over the finite values it is given: round-number ticks, or whole decades when logarithmic.</summary>
    private sealed record Axis(bool Log, double Min, double Max, Tick[] Marks)
    {
        public static Axis Of(IEnumerable<double> values, bool log)
        {
            var usable = values.Where(v => double.IsFinite(v) && (!log || v > 0)).ToList();
            if (log)
            {
                int first = usable.Count == 0 ? 0 : (int)Math.Floor(Math.Log10(usable.Min()) + 1e-9);
                int last = usable.Count == 0 ? 1 : Math.Max(first + 1, (int)Math.Ceiling(Math.Log10(usable.Max()) - 1e-9));
                var decades = Enumerable.Range(first, last - first + 1).Select(d => new Tick(Math.Pow(10, d), $"1e{d}")).ToArray();
                return new Axis(true, first, last, decades);
            }
            var ticks = usable.Count == 0 ? LinePlot.Ticks(0, 1) : LinePlot.Ticks(usable.Min(), usable.Max());
            double step = ticks.Length > 1 ? ticks[1] - ticks[0] : 1;
            int decimals = Math.Max(0, -(int)Math.Floor(Math.Log10(step) + 1e-9));
            return new Axis(false, ticks[0], ticks[^1], ticks.Select(t => new Tick(t, t.ToString("F" + decimals, CultureInfo.InvariantCulture))).ToArray());
        }

        public bool Holds(double value) => double.IsFinite(value) && (!Log || value > 0);

        public double Fraction(double value) => ((Log ? Math.Log10(value) : value) - Min) / (Max - Min);
    }
}
