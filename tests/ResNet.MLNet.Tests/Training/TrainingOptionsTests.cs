using ResNet.MLNet.Training;

namespace ResNet.MLNet.Tests.Training;

public class TrainingOptionsTests
{
    public static TheoryData<string, Action<TrainingOptions>> Invalid => new()
    {
        { nameof(TrainingOptions.Epochs), o => o.Epochs = 0 },
        { nameof(TrainingOptions.BatchSize), o => o.BatchSize = 0 },
        { nameof(TrainingOptions.LearningRate), o => o.LearningRate = float.NaN },
        { nameof(TrainingOptions.LearningRate), o => o.LearningRate = -1 },
        { nameof(TrainingOptions.Momentum), o => o.Momentum = 1 },
        { nameof(TrainingOptions.Nesterov), o => { o.Optimizer = OptimizerKind.Sgd; o.Momentum = 0; o.Nesterov = true; } },
        { nameof(TrainingOptions.WeightDecay), o => o.WeightDecay = -0.1f },
        { nameof(TrainingOptions.WarmupEpochs), o => o.WarmupEpochs = 5 },
        { nameof(TrainingOptions.StepMilestones), o => o.Schedule = ScheduleKind.StepDecay },
        { nameof(TrainingOptions.StepMilestones), o => o.StepMilestones = [3, 2] },
        { nameof(TrainingOptions.LabelSmoothing), o => o.LabelSmoothing = 1 },
        { nameof(TrainingOptions.TrainLastStages), o => o.TrainLastStages = 0 },
        { nameof(TrainingOptions.FreezeEpochs), o => o.FreezeEpochs = 5 },
        { nameof(TrainingOptions.FreezeEpochs), o => { o.FreezeEpochs = 1; o.Freeze = FreezeMode.HeadOnly; } },
        { nameof(TrainingOptions.EarlyStageLearningRateFactor), o => o.EarlyStageLearningRateFactor = 0 },
        { nameof(TrainingOptions.Patience), o => o.Patience = 0 },
        { nameof(TrainingOptions.Resume), o => o.Resume = true },
        { nameof(TrainingOptions.Device), o => o.Device = "tpu" },
        { nameof(TrainingOptions.ImageSize), o => o.ImageSize = 0 },
        { nameof(ImageModelInput.ImageSize), o => o.Input = new ImageModelInput { ImageSize = 0 } },
        { nameof(ImageModelInput.Std), o => o.Input = new ImageModelInput { Std = [0.2f, 0, 0.2f] } },
        { nameof(ImageModelInput.Std), o => o.Input = new ImageModelInput { Std = [0.2f] } },
        { nameof(Augmentation.MinScale), o => o.Augmentation.MinScale = 0 },
        { nameof(Augmentation.ColorJitter), o => o.Augmentation.ColorJitter = 1.5f },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Should_name_the_invalid_option(string option, Action<TrainingOptions> breakIt)
    {
        var options = new TrainingOptions();
        breakIt(options);

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(option, error.ParamName);
        Assert.Contains(option, error.Message);
    }

    [Fact]
    public void Should_accept_the_defaults()
    {
        new TrainingOptions().Validate();
        Assert.False(Augmentation.None.IsEnabled);
        Assert.True(Augmentation.Default.IsEnabled);
    }
}
