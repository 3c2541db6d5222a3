using ResNet.MLNet.Cli;

namespace ResNet.MLNet.Tests.Cli;

public class ExportOnnxCommandTests
{
    private static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = CliApp.Run(args, output, error);
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public void Should_write_an_ONNX_file_ONNX_Runtime_runs()
    {
        string path = Path.Combine(Path.GetTempPath(), $"resnet-mlnet-cli-{Guid.NewGuid():N}.onnx");
        try
        {
            var (exitCode, output, error) = Run("export-onnx", "--arch", "cifar_resnet20", "--num-classes", "4", "--output", "probabilities", "--out", path);

            Assert.True(exitCode == 0, error);
            Assert.Contains("cifar_resnet20", output);
            Assert.Contains("random initial weights", error); // honest until --weights exists
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
        var (exitCode, _, error) = Run("export-onnx", "--arch", "resnet19", "--out", "never.onnx");

        Assert.Equal(1, exitCode);
        Assert.Contains("resnet19", error);
        Assert.Contains("resnet18", error);
        Assert.Contains("cifar_resnet20", error);
        Assert.False(File.Exists("never.onnx"));
    }

    [Fact]
    public void Should_explain_that_a_headless_network_exports_features()
    {
        var (exitCode, _, error) = Run("export-onnx", "--arch", "cifar_resnet20", "--num-classes", "0", "--out", "never.onnx");

        Assert.Equal(1, exitCode);
        Assert.Contains("Features", error);
        Assert.False(File.Exists("never.onnx"));
    }
}
