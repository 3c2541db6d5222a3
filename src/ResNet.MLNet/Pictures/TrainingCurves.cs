using ResNet.MLNet.Training;
using SkiaSharp;

namespace ResNet.MLNet.Pictures;

/// <summary>Per-epoch curves of training runs: each run's training curve solid, its held-out curve dashed.</summary>
internal static class TrainingCurves
{
    /// <summary>
    /// One chart of <paramref name="value"/> per epoch for <paramref name="runs"/>. One run draws its training and held-out
    /// curves in two colours; several runs get one colour each. The held-out curve is drawn when every epoch has it.
    /// </summary>
    /// <param name="title">Chart title.</param>
    /// <param name="yLabel">Y axis title.</param>
    /// <param name="runs">Named histories; a single run may have an empty name.</param>
    /// <param name="value">The plotted value of an epoch from (loss, accuracy): training or held-out.</param>
    /// <param name="heldOutLabel">Name of the held-out series ("validation", "test").</param>
    public static LinePlot Plot(string title, string yLabel, IReadOnlyList<(string Name, IReadOnlyList<EpochMetrics> History)> runs,
        Func<double, double, double> value, string heldOutLabel = "validation")
    {
        var lines = new List<PlotLine>();
        for (int r = 0; r < runs.Count; r++)
        {
            var (name, history) = runs[r];
            string prefix = name.Length == 0 ? "" : name + " ";
            double[] epochs = history.Select(e => (double)e.Epoch).ToArray();
            var colour = Ink.Palette[(runs.Count == 1 ? 0 : r) % Ink.Palette.Length];
            lines.Add(new PlotLine(prefix + "train", epochs, history.Select(e => value(e.TrainLoss, e.TrainAccuracy)).ToArray(), colour));
            if (history.Count > 0 && history.All(e => e.ValidationLoss is not null && e.ValidationAccuracy is not null))
                lines.Add(new PlotLine(prefix + heldOutLabel, epochs, history.Select(e => value(e.ValidationLoss!.Value, e.ValidationAccuracy!.Value)).ToArray(),
                    runs.Count == 1 ? Ink.Palette[1] : colour, Dashed: true));
        }
        return new LinePlot(title, "epoch", yLabel, lines);
    }

    /// <summary>The command-line tool's picture of one run: loss (left) and accuracy in percent (right), 1000 x 460.</summary>
    public static Picture LossAndAccuracy(IReadOnlyList<EpochMetrics> history, string title, string heldOutLabel = "validation")
    {
        (string, IReadOnlyList<EpochMetrics>)[] run = [("", history)];
        return LinePlot.Row(
        [
            Plot($"{title}: loss", "loss", run, (loss, _) => loss, heldOutLabel),
            Plot($"{title}: accuracy", "accuracy (%)", run, (_, accuracy) => 100 * accuracy, heldOutLabel),
        ], 500, 460);
    }
}

/// <summary>The learning-rate finder's curve: smoothed loss against the learning rate (log scale), suggestions marked.</summary>
internal static class LearningRateCurve
{
    public static LinePlot Plot(LearningRateFinding finding, string title)
    {
        var (rates, losses) = (finding.LearningRates, finding.Losses);
        // The y range leaves out the explosion at the end so that the descent stays readable.
        double floor = losses.Min(), ceiling = Math.Min(losses.Max(), losses[0] + 1.5 * (losses[0] - floor) + 1e-9);
        PlotMark Mark(double lr, string colour, string label)
        {
            int i = Enumerable.Range(0, rates.Count).MinBy(k => Math.Abs(Math.Log(rates[k]) - Math.Log(lr)));
            return new PlotMark(rates[i], losses[i], SKColor.Parse(colour), label);
        }
        return new LinePlot($"{title}: learning-rate finder", "learning rate (log scale)", "loss (smoothed)",
            [new PlotLine("", rates, losses, Ink.Palette[0], Markers: false)])
        {
            LogX = true,
            YCeiling = Math.Max(ceiling, floor + 1e-6),
            Marks =
            [
                Mark(finding.Steepest, "d62728", $"steepest descent: {finding.Steepest:G2} (suggested)"),
                Mark(finding.MinimumOver10 * 10, "2ca02c", $"minimum: {finding.MinimumOver10 * 10:G2} (a tenth of it: {finding.MinimumOver10:G2})"),
            ],
        };
    }
}
