using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ResNet.MLNet.Data;
using ResNet.MLNet.Tests.TestSupport;

namespace ResNet.MLNet.Tests.Cli;

public class ExportOnnxCommandTests
{
    [Fact]
    public void Should_write_an_ONNX_file_ONNX_Runtime_runs()
    {
        string path = Path.Combine(Path.GetTempPath(), $"resnet-mlnet-cli-{Guid.NewGuid():N}.onnx");
        try
        {
            var (exitCode, output, error) = CliRunner.Run("export-onnx", "--arch", "cifar_resnet20", "--num-classes", "4", "--output", "probabilities", "--out", path);

            Assert.True(exitCode == 0, error);
            Assert.Contains("cifar_resnet20", output);
            Assert.Contains("random initial weights", error); // no --weights
            using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path);
            Assert.Equal([-1, 3, 32, 32], session.InputMetadata["input"].Dimensions); // CIFAR default size
            Assert.Equal([-1, 4], session.OutputMetadata["output"].Dimensions);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Should_list_the_valid_names_for_an_unknown_architecture()
    {
        var (exitCode, _, error) = CliRunner.Run("export-onnx", "--arch", "resnet19", "--out", "never.onnx");

        Assert.Equal(1, exitCode);
        Assert.Contains("resnet19", error);
        Assert.Contains("resnet18", error);
        Assert.Contains("cifar_resnet20", error);
        Assert.False(File.Exists("never.onnx"));
    }

    [Fact]
    public void Should_explain_that_a_headless_network_exports_features()
    {
        var (exitCode, _, error) = CliRunner.Run("export-onnx", "--arch", "cifar_resnet20", "--num-classes", "0", "--out", "never.onnx");

        Assert.Equal(1, exitCode);
        Assert.Contains("Embedding", error); // the output to export instead
        Assert.False(File.Exists("never.onnx"));
    }

    [Fact]
    public void Should_export_the_weights_of_a_file_with_its_class_count()
    {
        using var dir = new TempDirectory();
        var expected = PredictFixtures.Json("cifar_resnet20.json")[1]; // gray.png, resize 32, crop 32, ImageNet normalization
        Assert.Equal("gray.png", expected.GetProperty("image").GetString());

        var (exitCode, _, error) = CliRunner.Run("export-onnx", "--arch", "cifar_resnet20", "--weights", Fixtures.Path("weights", "cifar_resnet20.pth"), "--out", dir.File("cifar.onnx"));

        Assert.True(exitCode == 0, error);
        Assert.Contains("Loaded 116 tensors", error);
        Assert.DoesNotContain("random", error);
        // The graph normalizes with ImageNet's statistics itself: feed it pixels in [0, 1].
        var pixels = ImagePreprocessing.Load(PredictFixtures.PathOf("gray.png"), new ImageModelInput { ImageSize = 32, Mean = [0, 0, 0], Std = [1, 1, 1] });
        using var session = new InferenceSession(dir.File("cifar.onnx"));
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(pixels.ToArray(), [1, 3, 32, 32]))]);
        var logits = results[0].AsEnumerable<float>().ToArray();
        AssertClose.Relative(expected.GetProperty("logits").EnumerateArray().Select(v => v.GetSingle()).ToArray(), logits, 1e-4);
    }

    [Fact]
    public void Should_keep_a_fresh_head_when_num_classes_differs_from_the_file_and_say_so()
    {
        using var dir = new TempDirectory();
        var (exitCode, _, error) = CliRunner.Run("export-onnx", "--arch", "cifar_resnet20", "--weights", Fixtures.Path("weights", "cifar_resnet20.pth"),
            "--num-classes", "4", "--out", dir.File("four.onnx"));

        Assert.True(exitCode == 0, error);
        Assert.Contains("head: the file's head has 10 classes and the model's 4", error);
        using var session = new InferenceSession(dir.File("four.onnx"));
        Assert.Equal([-1, 4], session.OutputMetadata["output"].Dimensions);
    }

    [Theory]
    [InlineData("cifar_resnet32", "cifar_resnet20.pth", "missing: layer1.3.conv1.weight")]
    [InlineData("cifar_resnet20", "missing.pth", "missing.pth' does not exist")]
    [InlineData("cifar_resnet20", "hostile_system.pth", "posix.system")]
    public void Should_fail_with_the_reason_when_the_weights_do_not_fit_or_cannot_be_read(string arch, string file, string expected)
    {
        using var dir = new TempDirectory();
        CliRunner.AssertFails(CliRunner.Run("export-onnx", "--arch", arch, "--weights", Fixtures.Path("weights", file), "--out", dir.File("never.onnx")), expected);
        Assert.False(File.Exists(dir.File("never.onnx")));
    }
}
