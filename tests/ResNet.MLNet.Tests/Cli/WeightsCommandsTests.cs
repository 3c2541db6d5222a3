using ResNet.MLNet.Cli;
using ResNet.MLNet.Tests.TestSupport;
using ResNet.MLNet.Tests.Weights;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Tests.Cli;

public class WeightsCommandsTests
{
    private static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void Inspect_should_list_tensors_totals_and_the_architecture()
    {
        var (code, output, error) = Run("inspect", WeightsFixtures.PathOf("cifar_resnet20.pth"));
        Assert.True(code == 0, error);
        Assert.Contains("conv1.weight", output);
        Assert.Contains("float32   [16, 3, 3, 3]", output);
        Assert.Contains("tensors: 116", output);
        Assert.Contains("parameters: 269,722", output);
        Assert.Contains("architecture: cifar_resnet20 (10 classes, 3 input channels)", output);
    }

    [Fact]
    public void Inspect_should_refuse_a_hostile_file_with_a_message_and_exit_code_1()
    {
        var (code, output, error) = Run("inspect", WeightsFixtures.PathOf("hostile_system.pth"));
        Assert.Equal(1, code);
        Assert.StartsWith("error: ", error);
        Assert.Contains("posix.system", error);
        Assert.DoesNotContain("   at ", error); // no stack trace
        Assert.Equal("", output);
    }

    [Fact]
    public void Convert_should_write_safetensors_with_the_detected_architecture()
    {
        using var dir = new TempDirectory();
        var (code, output, error) = Run("convert", "--in", WeightsFixtures.PathOf("cifar_resnet20.pth"), "--out", dir.File("cifar.safetensors"));
        Assert.True(code == 0, error);
        Assert.Contains("Wrote 116 tensors", output);
        var content = WeightsFile.Read(dir.File("cifar.safetensors"));
        WeightsFixtures.AssertSameTensors(WeightsFixtures.Read("cifar_resnet20.pth").Tensors, content.Tensors);
        var metadata = WeightsMetadata.FromDictionary(content.Metadata);
        Assert.Equal("cifar_resnet20", metadata.Architecture);
        Assert.Equal(10, metadata.NumClasses);

        (code, _, error) = Run("convert", "--in", dir.File("cifar.safetensors"), "--out", dir.File("cifar.weights"), "--format", "torchsharp");
        Assert.True(code == 0, error);
        Assert.Equal(WeightsFormat.TorchSharp, WeightsFile.Read(dir.File("cifar.weights")).Format);
    }

    [Fact]
    public void Convert_should_write_one_network_of_a_file_that_holds_two_and_read_a_linked_file()
    {
        using var dir = new TempDirectory();
        var cifar = WeightsFixtures.Read("cifar_resnet20.pth").Tensors;
        // A MoCo-style checkpoint: the query and key encoders, as torch.save leaves DataParallel's keys.
        WeightsFile.Write(dir.File("moco.safetensors"), [.. cifar.Select(t => t.WithName("module.encoder_q." + t.Name)),
            .. cifar.Select(t => t.WithName("module.encoder_k." + t.Name))]);
        File.CreateSymbolicLink(dir.File("linked.safetensors"), dir.File("moco.safetensors"));

        var (code, _, error) = Run("inspect", dir.File("moco.safetensors"));
        Assert.Contains("2 networks, under the key prefixes 'module.encoder_k.', 'module.encoder_q.'", error);
        (code, var output, error) = Run("convert", "--in", dir.File("linked.safetensors"), "--out", dir.File("query.safetensors"), "--prefix", "module.encoder_q.");
        Assert.True(code == 0, error);
        Assert.Contains("Wrote 116 tensors", output);
        var content = WeightsFile.Read(dir.File("query.safetensors"));
        WeightsFixtures.AssertSameTensors(cifar, content.Tensors);
        Assert.Equal("cifar_resnet20", WeightsMetadata.FromDictionary(content.Metadata).Architecture);
    }

    [Fact]
    public void Convert_should_fail_cleanly_on_a_missing_file_or_an_unknown_extension()
    {
        using var dir = new TempDirectory();
        var (code, _, error) = Run("convert", "--in", dir.File("missing.pth"), "--out", dir.File("out.safetensors"));
        Assert.Equal(1, code);
        Assert.Contains("missing.pth", error);
        (code, _, error) = Run("convert", "--in", WeightsFixtures.PathOf("tiny.pth"), "--out", dir.File("out.xyz"));
        Assert.Equal(1, code);
        Assert.Contains(".safetensors", error);
    }
}
