using ResNet.MLNet.Tests.TestSupport;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Tests.Cli;

/// <summary><c>inspect</c> and <c>convert</c> print and write in proportion to the file, and print names from files escaped.</summary>
public class HostileWeightsCommandTests
{
    [Fact]
    public void Inspect_output_stays_in_proportion_with_one_huge_name_and_escapes_control_characters()
    {
        using var dir = new TempDirectory();
        string path = dir.File("names.safetensors");
        HostileWeights.WriteNameFlood(path, nameLength: 10_000, others: 1000);

        var (code, output, error) = CliRunner.Run("inspect", path);

        Assert.True(code == 0, error);
        Assert.True(output.Length < 150_000, $"printed {output.Length:N0} characters"); // padding every line to 10,000 printed 10 MB
        Assert.Contains("x... (9,840 more characters)", output);
        Assert.Contains("evil\\x1B[2J\\x1B]0;pwned\\x07.weight", output);
        Assert.DoesNotContain('\u001b', output);
        Assert.Contains("tensors: 1,002", output);
    }

    [Fact]
    public void Convert_refuses_views_of_one_storage_that_would_write_far_more_than_the_file()
    {
        using var dir = new TempDirectory();
        string path = dir.File("views.pth");
        HostileWeights.WriteSharedStoragePth(path, keys: 2000, storageFloats: 262_144); // 1 MiB storage: 2 GB written one view at a time
        string output = dir.File("out.safetensors");

        var result = CliRunner.Run("convert", "--in", path, "--out", output);

        CliRunner.AssertFails(result, path);
        Assert.Contains("share storage", result.Error);
        Assert.False(File.Exists(output));
        Assert.Equal(2000, WeightsFile.Read(path).Tensors.Count); // reading it is fine: the views share the bytes
    }
}
