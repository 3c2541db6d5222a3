using Microsoft.ML;

namespace ResNet.MLNet.Tests.MLNet;

/// <summary>
/// The one place the library reaches into ML.NET: the MLContext behind the catalogs its extensions hang off. If an ML.NET
/// upgrade moves it, these fail instead of the seed and the log silently falling back.
/// </summary>
public class MLContextEnvironmentTests
{
    [Fact]
    public void Finds_the_context_behind_the_transforms_and_the_trainers_catalogs()
    {
        var ml = new MLContext(seed: 5);
        Assert.NotNull(MLContextEnvironment.Find(ml.Transforms));
        Assert.NotNull(MLContextEnvironment.Find(ml.MulticlassClassification.Trainers));
    }

    [Fact]
    public void Seeds_follow_the_context_seed()
    {
        long Seed(int contextSeed) => MLContextEnvironment.Seed(new MLContext(seed: contextSeed).Transforms, "test");

        Assert.Equal(Seed(5), Seed(5));
        Assert.NotEqual(Seed(5), Seed(6));
    }

    [Fact]
    public void Messages_reach_MLContext_Log()
    {
        var ml = new MLContext(seed: 1);
        var messages = new List<string>();
        ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };

        MLContextEnvironment.Warning(ml.MulticlassClassification.Trainers, "test", "a warning for the log");

        lock (messages)
            Assert.Contains(messages, m => m.Contains("a warning for the log", StringComparison.Ordinal));
    }

    [Fact]
    public void Without_a_context_the_seed_is_fixed()
    {
        Assert.Null(MLContextEnvironment.Find(new object()));
        Assert.Equal(MLContextEnvironment.FallbackSeed, MLContextEnvironment.Seed(new object(), "test"));
    }
}
