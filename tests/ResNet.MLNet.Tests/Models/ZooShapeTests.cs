using ResNet.MLNet.Models;
using ResNet.MLNet.Weights;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Models;

public class ZooShapeTests
{
    [Fact]
    public void ResNet18_state_dict_has_torchvision_keys()
    {
        using var model = ResNetModels.ResNet18();
        var sd = model.OrderedStateDict().Select(e => e.Key).ToList();
        Assert.Equal(122, sd.Count);
        Assert.Equal("conv1.weight", sd.First());
        Assert.Equal("fc.bias", sd.Last());
        long count = model.parameters().Sum(p => p.numel());
        Assert.Equal(11_689_512, count);
    }
}
