using ResNet.MLNet.Models;

namespace ResNet.MLNet.Tests.Models;

public class ZooValidationTests
{
    [Fact]
    public void Unknown_architecture_lists_the_valid_names()
    {
        var e = Assert.Throws<ArgumentException>(() => ResNetModels.Options("resnet19"));
        Assert.Contains("resnet19", e.Message);
        foreach (string name in ResNetModels.Names)
            Assert.Contains(name, e.Message);
    }

    [Theory]
    [InlineData("ResNet-50", "resnet50")]
    [InlineData("RESNET18", "resnet18")]
    [InlineData("WideResNet50_2", "wide_resnet50_2")]
    [InlineData("cifar_resnet56", "cifar_resnet56")]
    [InlineData("cifar_resnet1202", "cifar_resnet1202")]
    [InlineData("cifar-plain32", "cifar_plain32")]
    public void Names_parse_leniently(string input, string canonical) =>
        Assert.Equal(canonical, ResNetModels.Options(input).Name);

    [Fact]
    public void Every_registry_name_round_trips()
    {
        foreach (var arch in Enum.GetValues<ResNetArchitecture>())
            Assert.Equal(ResNetModels.Name(arch), ResNetModels.Options(ResNetModels.Name(arch)).Name);
    }

    [Theory]
    [InlineData(21)]
    [InlineData(2)]
    public void Cifar_depth_must_be_6n_plus_2(int depth)
    {
        var e = Assert.Throws<ArgumentException>(() => ResNetModels.CifarResNet(depth));
        Assert.Contains("6n+2", e.Message);
    }

    public static TheoryData<ResNetOptions, string> InvalidOptions => new()
    {
        { ResNetModels.Options(ResNetArchitecture.ResNet18) with { Groups = 32 }, nameof(ResNetOptions.Groups) },
        { ResNetModels.Options(ResNetArchitecture.ResNet50) with { StageWidths = [16, 32, 64, 128], Groups = 8, WidthPerGroup = 2 }, nameof(ResNetOptions.WidthPerGroup) },
        { ResNetModels.Options(ResNetArchitecture.ResNet18) with { Layers = [2, 0, 2, 2] }, nameof(ResNetOptions.Layers) },
        { ResNetModels.Options(ResNetArchitecture.ResNet18) with { StageWidths = [64, 128] }, nameof(ResNetOptions.StageWidths) },
        { ResNetModels.Options(ResNetArchitecture.ResNet18) with { InChannels = 0 }, nameof(ResNetOptions.InChannels) },
        { ResNetModels.Options(ResNetArchitecture.ResNet18) with { NumClasses = -1 }, nameof(ResNetOptions.NumClasses) },
        { ResNetModels.Options(ResNetArchitecture.CifarResNet20) with { StageWidths = [16, 33, 64] }, nameof(ResNetOptions.Shortcut) },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Invalid_combinations_name_the_option(ResNetOptions options, string option)
    {
        var e = Assert.Throws<ArgumentException>(() => new ResNetModel(options));
        Assert.Equal(option, e.ParamName);
        Assert.Contains(option, e.Message);
    }
}
