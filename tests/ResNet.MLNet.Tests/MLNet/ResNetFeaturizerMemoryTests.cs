using Microsoft.ML;
using ResNet.MLNet.Tests.TestSupport;
using Xunit.Abstractions;
using static ResNet.MLNet.Tests.MLNet.ResNetFeaturizerTests;

namespace ResNet.MLNet.Tests.MLNet;

[Collection(SerialCollection.Name)]
public class ResNetFeaturizerMemoryTests(ITestOutputHelper output)
{
    [Fact]
    public void Disposing_releases_native_memory_across_many_batches()
    {
        var (ml, data) = SampleImages(every: 2);
        var options = Small(ResNetInferenceEngine.TorchSharp, batch: 5);
        long before = TorchSharp.torch.Tensor.TotalCount;
        var featurizer = ml.Transforms.ResNetFeaturizer(options).Fit(data);
        long afterFit = TorchSharp.torch.Tensor.TotalCount;
        for (int pass = 0; pass < 3; pass++)
            Assert.Equal(50, Features(featurizer.Transform(data), "Features").Count);
        long afterScoring = TorchSharp.torch.Tensor.TotalCount;
        featurizer.Dispose();
        long afterDispose = TorchSharp.torch.Tensor.TotalCount;
        output.WriteLine($"live tensors: before {before}, after fit {afterFit}, after 30 batches {afterScoring}, after dispose {afterDispose}");
        Assert.True(afterScoring <= afterFit, $"{afterScoring - afterFit} tensors leaked over 30 batches");
        // Every parameter and buffer of the network (122 state_dict entries for ResNet-18) goes with the featurizer.
        // (TorchSharp's own module constructors leave a few initialization temporaries to its finalizers.)
        Assert.True(afterFit - afterDispose >= 122, $"only {afterFit - afterDispose} tensors were released");
        Assert.Throws<ObjectDisposedException>(() => featurizer.Transform(data));
    }
}
