using ResNet.MLNet.Tests.TestSupport;
using ResNet.MLNet.Weights;
using static ResNet.MLNet.Tests.Weights.WeightsFixtures;

namespace ResNet.MLNet.Tests.Weights;

public class WeightsFileTests
{
    [Theory]
    [InlineData("dtypes.pth")]
    [InlineData("views.pth")]
    [InlineData("cifar_resnet20.pth")]
    public void Should_round_trip_safetensors_pth_and_TorchSharp_format(string fixture)
    {
        using var dir = new TempDirectory();
        var original = Read(fixture).Tensors;
        var current = original;
        foreach (string file in new[] { "a.safetensors", "b.pth", "c.dat", "d.pt", "e.bin", "f.safetensors" })
        {
            WeightsFile.Write(dir.File(file), current);
            var content = WeightsFile.Read(dir.File(file));
            Assert.Equal(WeightsFile.FormatForExtension(file), content.Format);
            AssertSameTensors(original, content.Tensors);
            current = content.Tensors;
        }
    }

    [Fact]
    public void Should_choose_the_format_by_extension_or_by_the_given_format()
    {
        using var dir = new TempDirectory();
        var tensors = Read("tiny.pth").Tensors;
        WeightsFile.Write(dir.File("weights.weird"), tensors, format: WeightsFormat.SafeTensors);
        Assert.Equal(WeightsFormat.SafeTensors, WeightsFile.Detect(dir.File("weights.weird")));
        var e = Assert.Throws<ArgumentException>(() => WeightsFile.Write(dir.File("weights.weird"), tensors));
        Assert.Contains(".safetensors", e.Message);
    }

    [Fact]
    public void Should_say_which_formats_it_tried_for_an_unknown_file()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("notes.txt"), "hello, these are not weights");
        var e = Assert.Throws<InvalidDataException>(() => WeightsFile.Read(dir.File("notes.txt")));
        Assert.Contains("not a recognized weight file", e.Message);
        Assert.Contains("safetensors", e.Message);
    }
}
