namespace ResNet.MLNet.Training;

/// <summary>Settings of <see cref="ResNetTrainer.FindLearningRate"/> (fastai's <c>lr_find</c> defaults).</summary>
public sealed record LearningRateFinderOptions
{
    /// <summary>The first learning rate tried. Default 1e-7.</summary>
    public double StartLearningRate { get; init; } = 1e-7;

    /// <summary>The last learning rate tried. Default 10.</summary>
    public double EndLearningRate { get; init; } = 10;

    /// <summary>Steps of the sweep (batches; epochs repeat when the data has fewer). Default 100.</summary>
    public int Steps { get; init; } = 100;

    /// <summary>The sweep stops once the smoothed loss exceeds this multiple of its minimum. Default 4.</summary>
    public double DivergenceFactor { get; init; } = 4;

    /// <exception cref="ArgumentException">A setting is out of range (named).</exception>
    public void Validate()
    {
        if (!(StartLearningRate > 0 && double.IsFinite(StartLearningRate)))
            throw new ArgumentException($"{nameof(StartLearningRate)} must be positive; got {StartLearningRate}.", nameof(StartLearningRate));
        if (!(EndLearningRate > StartLearningRate && double.IsFinite(EndLearningRate)))
            throw new ArgumentException($"{nameof(EndLearningRate)} must exceed {nameof(StartLearningRate)} ({StartLearningRate}); got {EndLearningRate}.", nameof(EndLearningRate));
        if (Steps < 10)
            throw new ArgumentException($"{nameof(Steps)} must be at least 10 for a curve to read; got {Steps}.", nameof(Steps));
        if (!(DivergenceFactor > 1))
            throw new ArgumentException($"{nameof(DivergenceFactor)} must exceed 1; got {DivergenceFactor}.", nameof(DivergenceFactor));
    }
}

/// <summary>
/// The result of a learning-rate sweep (Smith 2015; fastai's <c>lr_find</c>): the loss at every learning rate tried,
/// smoothed, and two suggestions.
/// </summary>
/// <param name="LearningRates">The learning rates tried, increasing exponentially.</param>
/// <param name="Losses">The training loss at each, smoothed (exponential moving average, bias-corrected, beta 0.98).</param>
/// <param name="Steepest">The learning rate where the smoothed loss falls fastest (per log step, over a window of a twentieth of the sweep) before its minimum: fastai's "steep" suggestion.</param>
/// <param name="MinimumOver10">A tenth of the learning rate at the smoothed loss's minimum: fastai's "minimum" suggestion.</param>
/// <param name="Diverged">Whether the sweep stopped early because the loss exploded.</param>
public sealed record LearningRateFinding(IReadOnlyList<double> LearningRates, IReadOnlyList<double> Losses, double Steepest, double MinimumOver10, bool Diverged)
{
    /// <summary>Builds the suggestions from a sweep's (learning rate, smoothed loss) points.</summary>
    internal static LearningRateFinding From(IReadOnlyList<double> rates, IReadOnlyList<double> losses, bool diverged)
    {
        int minimum = 0;
        for (int i = 1; i < losses.Count; i++)
            if (losses[i] < losses[minimum])
                minimum = i;
        // The steepest descent per log-learning-rate before the minimum, measured across a window of about a twentieth
        // of the sweep on each side (step-to-step differences are noise), and past the first points, where the moving
        // average has seen too few batches (fastai's plot skips them too).
        int half = Math.Max(1, losses.Count / 20), skip = Math.Min(5, minimum);
        int steepest = Math.Max(skip, Math.Min(minimum, half));
        double slope = double.PositiveInfinity;
        for (int i = skip; i <= minimum; i++)
        {
            int a = Math.Max(0, i - half), b = Math.Min(losses.Count - 1, i + half);
            if (b == a)
                continue;
            double s = (losses[b] - losses[a]) / (Math.Log(rates[b]) - Math.Log(rates[a]));
            if (s < slope)
                (slope, steepest) = (s, i);
        }
        return new LearningRateFinding(rates, losses, rates[steepest], rates[minimum] / 10, diverged);
    }
}
