using System.Diagnostics;
using ResNet.MLNet.Tests.Cli;
using ResNet.MLNet.Tests.TestSupport;
using ResNet.MLNet.Weights;
using TorchSharp;
using static ResNet.MLNet.Tests.Weights.WeightsFixtures;

namespace ResNet.MLNet.Tests.Weights;

/// <summary>
/// A network's head is sized from a weight file only after the file's head is shown to be sane: its data present, its
/// rows within <see cref="WeightsFileContent.MaxNumClasses"/>, its columns the network's features.
/// </summary>
public class HostileHeadTests
{
    private static string Write(TempDirectory dir, string name, long[] shape, int bytes)
    {
        string path = dir.File(name);
        TorchSharpFormat.Write(path, [new NamedTensor("fc.weight", torch.ScalarType.Byte, shape, new byte[bytes])]);
        return path;
    }

    [Fact]
    public void Should_refuse_a_head_of_50_million_rows_and_no_data_before_building_anything()
    {
        using var dir = new TempDirectory();
        string path = Write(dir, "hostile.dat", [50_000_000, 0], 0); // about 30 bytes

        var content = WeightsFile.Read(path);
        var e = Assert.Throws<InvalidDataException>(() => content.NumClasses);
        Assert.Contains(path, e.Message);
        Assert.Contains("'fc.weight' of shape [50000000, 0]", e.Message);

        var result = CliRunner.Run("predict", "--arch", "resnet18", "--weights", path, "--image", PredictFixtures.PathOf("gray.png"));
        CliRunner.AssertFails(result, path);
        Assert.Contains("fc.weight", result.Error);
    }

    [Fact]
    public void Should_refuse_heads_over_the_class_limit_or_of_the_wrong_width()
    {
        using var dir = new TempDirectory();
        string tall = Write(dir, "tall.dat", [WeightsFileContent.MaxNumClasses + 1L, 1], WeightsFileContent.MaxNumClasses + 1);
        string narrow = Write(dir, "narrow.dat", [100_000, 1], 100_000); // would build a 100,000 x 512 head from 100 KB

        Assert.Contains("more than 1048576", Assert.Throws<InvalidDataException>(() => WeightsFile.Read(tall).NumClasses).Message);
        Assert.Equal(100_000, WeightsFile.Read(narrow).NumClasses);
        var e = Assert.Throws<InvalidDataException>(() => WeightsFile.Read(narrow).NumClassesFor(512));
        Assert.Contains(narrow, e.Message);
        Assert.Contains("takes 1 features; this network's embedding has 512", e.Message);
        CliRunner.AssertFails(CliRunner.Run("featurize", "--data", Repo.SampleData, "--split", "test", "--arch", "resnet18", "--weights", narrow, "--out", dir.File("f.csv")), narrow);
    }

    [Fact]
    public void Should_still_read_the_class_count_of_real_heads()
    {
        Assert.Equal(10, Read("cifar_resnet20.pth").NumClassesFor(64));
    }

    [Fact]
    public async Task Should_refuse_devices_and_fifos_as_weights_without_opening_them()
    {
        using var dir = new TempDirectory();
        Assert.Contains("'/dev/zero' is not a weights file", Assert.Throws<InvalidDataException>(() => WeightsFile.Read("/dev/zero")).Message);
        string fifo = dir.File("fifo.pth");
        using (var mkfifo = Process.Start("mkfifo", [fifo]))
            mkfifo.WaitForExit();
        var read = Task.Run(() => WeightsFile.Read(fifo));
        Assert.Same(read, await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(60)))); // only keeps a regression from hanging the suite
        Assert.Contains(fifo, (await Assert.ThrowsAsync<InvalidDataException>(() => read)).Message);
    }
}
