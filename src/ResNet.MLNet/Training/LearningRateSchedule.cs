namespace ResNet.MLNet.Training;

/// <summary>The head's learning rate at every step of a run, as <see cref="ScheduleKind"/> describes it.</summary>
internal static class LearningRateSchedule
{
    private const double OneCycleDivisor = 25;
    private const double OneCycleFinalDivisor = 1e5;
    private const double OneCycleDefaultRise = 0.25;

    /// <summary>The learning rate of step <paramref name="step"/> (0-based) of epoch <paramref name="epoch"/> (0-based).</summary>
    public static double At(TrainingOptions options, int epoch, int step, int stepsPerEpoch)
    {
        double lr = options.LearningRate;
        long total = (long)options.Epochs * stepsPerEpoch;
        long t = (long)epoch * stepsPerEpoch + step;
        long warmup = (long)options.WarmupEpochs * stepsPerEpoch;
        if (options.Schedule == ScheduleKind.OneCycle)
        {
            double rise = warmup > 0 ? (double)warmup / total : OneCycleDefaultRise;
            double position = (double)t / total;
            double start = lr / OneCycleDivisor, end = start / OneCycleFinalDivisor;
            return position < rise
                ? CosineBetween(start, lr, position / rise)
                : CosineBetween(lr, end, (position - rise) / (1 - rise));
        }
        if (t < warmup)
            return lr * (t + 1) / warmup;
        return options.Schedule switch
        {
            ScheduleKind.CosineWithWarmup => CosineBetween(lr, 0, (double)(t - warmup) / (total - warmup)),
            ScheduleKind.StepDecay => lr * Math.Pow(0.1, options.StepMilestones.Count(m => epoch + 1 >= m)),
            _ => lr,
        };
    }

    /// <summary>Cosine interpolation from <paramref name="from"/> (at 0) to <paramref name="to"/> (at 1).</summary>
    private static double CosineBetween(double from, double to, double fraction) =>
        to + (from - to) * (1 + Math.Cos(Math.PI * fraction)) / 2;
}
