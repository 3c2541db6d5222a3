using ResNet.MLNet.Training;

namespace ResNet.MLNet.Tests.Training;

public class LearningRateScheduleTests
{
    private const int StepsPerEpoch = 10;

    private static double[] Curve(TrainingOptions options) =>
        Enumerable.Range(0, options.Epochs * StepsPerEpoch)
            .Select(t => LearningRateSchedule.At(options, t / StepsPerEpoch, t % StepsPerEpoch, StepsPerEpoch)).ToArray();

    [Fact]
    public void Should_warm_up_linearly_then_follow_a_cosine_to_zero()
    {
        var lr = Curve(new TrainingOptions { Epochs = 5, LearningRate = 0.1f, Schedule = ScheduleKind.CosineWithWarmup, WarmupEpochs = 1 });

        for (int t = 0; t < StepsPerEpoch; t++)
            Assert.Equal(0.1f * (t + 1) / StepsPerEpoch, lr[t], tolerance: 1e-6);
        Assert.Equal(0.1f, lr[StepsPerEpoch], tolerance: 1e-6);
        Assert.Equal(0.05f, lr[StepsPerEpoch + 20], tolerance: 1e-6); // half-way through the 40 cosine steps
        Assert.True(lr[^1] is > 0 and < 1e-3);
        Assert.All(lr.Skip(StepsPerEpoch).Zip(lr.Skip(StepsPerEpoch + 1)), p => Assert.True(p.Second < p.First));
    }

    [Fact]
    public void Should_divide_by_ten_at_each_milestone()
    {
        var lr = Curve(new TrainingOptions { Epochs = 6, LearningRate = 0.1f, Schedule = ScheduleKind.StepDecay, StepMilestones = [3, 5] });

        double[] perEpoch = Enumerable.Range(0, 6).Select(e => lr[e * StepsPerEpoch]).ToArray();
        Assert.Equal([0.1, 0.1, 0.01, 0.01, 0.001, 0.001], perEpoch.Select(v => Math.Round(v, 8)));
        Assert.All(Enumerable.Range(0, lr.Length), t => Assert.Equal(perEpoch[t / StepsPerEpoch], lr[t]));
    }

    [Fact]
    public void Should_rise_and_fall_over_one_cycle()
    {
        var lr = Curve(new TrainingOptions { Epochs = 4, LearningRate = 0.1f, Schedule = ScheduleKind.OneCycle });

        Assert.Equal(0.1f / 25, lr[0], tolerance: 1e-6);
        int peak = Array.IndexOf(lr, lr.Max());
        Assert.Equal(10, peak); // a quarter of 40 steps
        Assert.Equal(0.1f, lr[peak], tolerance: 1e-6);
        Assert.True(lr[^1] < 0.003 * 0.1); // the final lr / 2.5e6 is reached at the end of the last step
        Assert.All(lr.Take(peak).Zip(lr.Skip(1).Take(peak)), p => Assert.True(p.Second > p.First));
        Assert.All(lr.Skip(peak).Zip(lr.Skip(peak + 1)), p => Assert.True(p.Second < p.First));
    }

    [Fact]
    public void Should_keep_a_constant_rate_after_warmup()
    {
        var lr = Curve(new TrainingOptions { Epochs = 3, LearningRate = 0.1f, Schedule = ScheduleKind.Constant, WarmupEpochs = 1 });

        Assert.Equal(0.01f, lr[0], tolerance: 1e-6);
        Assert.All(lr.Skip(StepsPerEpoch - 1), v => Assert.Equal(0.1f, v, 6));
    }
}
