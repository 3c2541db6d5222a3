using ResNet.MLNet.Models;
using ResNet.MLNet.Training;
using static ResNet.MLNet.Tests.Training.TrainingTestSupport;

namespace ResNet.MLNet.Tests.Training;

public class LearningRateFinderTests
{
    [Fact]
    public void Suggestions_are_the_steepest_descent_and_a_tenth_of_the_minimum()
    {
        // A loss that falls fastest at 1e-3 (a logistic in log10(lr)), bottoms out at 1e-1, then explodes.
        var rates = Enumerable.Range(0, 100).Select(i => 1e-7 * Math.Pow(1e8, i / 99.0)).ToList();
        var losses = rates.Select(lr =>
        {
            double x = Math.Log10(lr);
            return 2 - 1.5 / (1 + Math.Exp(-3 * (x + 3))) + (x > -1 ? 4 * (x + 1) * (x + 1) : 0);
        }).ToList();
        var finding = LearningRateFinding.From(rates, losses, diverged: true);
        Assert.InRange(Math.Log10(finding.Steepest), -3.15, -2.85);
        int minimum = losses.IndexOf(losses.Min());
        Assert.Equal(rates[minimum] / 10, finding.MinimumOver10, 1e-12);
        Assert.True(finding.Diverged);
    }

    [Fact]
    public void The_sweep_rises_exponentially_and_puts_the_network_back()
    {
        using var model = ResNetModels.Build(TinyOptions(), seed: 1);
        var before = StateBytes(model);
        var data = Quadrants(64, seed: 2, channels: 3);
        var finding = ResNetTrainer.FindLearningRate(model, data, FastOptions(), new LearningRateFinderOptions { Steps = 30, EndLearningRate = 1 });

        Assert.InRange(finding.LearningRates.Count, 2, 30);
        Assert.Equal(1e-7, finding.LearningRates[0], 1e-12);
        double ratio = finding.LearningRates[1] / finding.LearningRates[0];
        for (int i = 2; i < finding.LearningRates.Count; i++)
            Assert.Equal(ratio, finding.LearningRates[i] / finding.LearningRates[i - 1], 1e-9);
        Assert.Equal(finding.LearningRates.Count, finding.Losses.Count);
        Assert.All(finding.Losses, l => Assert.True(double.IsFinite(l)));
        Assert.Contains(finding.Steepest, finding.LearningRates);

        Assert.Equal(before.Length, StateBytes(model).Length);
        Assert.All(before.Zip(StateBytes(model)), p => Assert.True(p.First.AsSpan().SequenceEqual(p.Second), "the sweep changed the weights"));
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad && p.grad is null));
    }

    [Fact]
    public void Bad_settings_and_too_little_data_are_named()
    {
        using var model = ResNetModels.Build(TinyOptions(), seed: 1);
        var data = Quadrants(8, seed: 2, channels: 3);
        var small = Assert.Throws<ArgumentException>(() => ResNetTrainer.FindLearningRate(model, data, FastOptions()));
        Assert.Contains("at least one full batch", small.Message);
        var steps = Assert.Throws<ArgumentException>(() => ResNetTrainer.FindLearningRate(model, Quadrants(32, 2, 3), FastOptions(), new LearningRateFinderOptions { Steps = 3 }));
        Assert.Contains("Steps", steps.Message);
        var range = Assert.Throws<ArgumentException>(() => new LearningRateFinderOptions { StartLearningRate = 1, EndLearningRate = 0.1 }.Validate());
        Assert.Contains("EndLearningRate", range.Message);
    }
}
