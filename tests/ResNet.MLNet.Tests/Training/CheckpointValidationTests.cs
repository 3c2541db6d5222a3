using ResNet.MLNet.Tests.TestSupport;
using ResNet.MLNet.Training;

namespace ResNet.MLNet.Tests.Training;

/// <summary>A checkpoint read for --resume must hold a possible state; a failed write leaves no partial file.</summary>
public class CheckpointValidationTests
{
    [Theory]
    [InlineData(-5, 0, 0, "CompletedEpochs is -5, but its history holds 0 epoch(s)")]
    [InlineData(3, 0, 0, "CompletedEpochs is 3, but its history holds 0 epoch(s)")]
    [InlineData(0, 2, 0, "BestEpoch is 2, outside 0..0")]
    [InlineData(0, 0, -1, "EpochsWithoutImprovement is -1, outside 0..0")]
    public void Should_refuse_a_checkpoint_whose_state_is_impossible(int completed, int best, int withoutImprovement, string expected)
    {
        using var dir = new TempDirectory();
        var state = new CheckpointState
        {
            CompletedEpochs = completed, Architecture = "cifar_resnet20", NumClasses = 10, Optimizer = OptimizerKind.Sgd, Seed = 1,
            History = [], BestEpoch = best, EpochsWithoutImprovement = withoutImprovement,
        };
        TrainingCheckpoint.Write(dir.Path, state, []);

        var e = Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Read(dir.Path));

        Assert.Contains(TrainingCheckpoint.PathIn(dir.Path), e.Message);
        Assert.Contains(expected, e.Message);
        TrainingCheckpoint.Write(dir.Path, state with { CompletedEpochs = 0, BestEpoch = 0, EpochsWithoutImprovement = 0 }, []);
        Assert.Equal(0, TrainingCheckpoint.Read(dir.Path)!.Value.State.CompletedEpochs);
    }

    [Fact]
    public void Should_remove_the_partial_file_when_the_disk_is_full()
    {
        using var dir = new TempDirectory();
        var state = new CheckpointState
        {
            CompletedEpochs = 0, Architecture = "cifar_resnet20", NumClasses = 10, Optimizer = OptimizerKind.Sgd, Seed = 1, History = [], BestEpoch = 0,
        };
        string temporary = TrainingCheckpoint.PathIn(dir.Path) + ".tmp";
        File.CreateSymbolicLink(temporary, "/dev/full"); // every write fails with "No space left on device"

        var e = Assert.Throws<IOException>(() => TrainingCheckpoint.Write(dir.Path, state, []));

        Assert.Contains(TrainingCheckpoint.PathIn(dir.Path), e.Message);
        Assert.Contains("The last complete checkpoint is kept", e.Message);
        Assert.False(File.Exists(temporary) || new FileInfo(temporary).LinkTarget is not null);
        Assert.Null(TrainingCheckpoint.Read(dir.Path));
    }
}
