using System.IO.Compression;
using System.Text.Json;

namespace ResNet.MLNet.Tests.Cli;

public sealed class BenchFashionMnistCommandTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("fmnist-").FullName;

    [Fact]
    public void Trains_on_gzip_idx_files_and_reports_test_accuracy_and_times()
    {
        WriteSet("train", count: 10, labelOffset: 0);
        WriteSet("t10k", count: 4, labelOffset: 1);
        var (code, output, error) = CliRunner.Run("bench", "fashion-mnist", "--arch", "cifar_resnet8", "--image-size", "8", "--epochs", "2",
            "--batch-size", "4", "--limit", "8", "--data", folder, "--json");
        Assert.True(code == 0, error);
        var root = JsonDocument.Parse(output).RootElement;
        Assert.Equal(8, root.GetProperty("train_images").GetInt32());
        Assert.Equal(4, root.GetProperty("test_images").GetInt32());
        Assert.Equal(2, root.GetProperty("epochs").GetInt32());
        Assert.Equal(2, root.GetProperty("history").GetArrayLength());
        Assert.InRange(root.GetProperty("test_accuracy").GetDouble(), 0, 1);
        Assert.True(root.GetProperty("seconds_per_epoch").GetDouble() > 0);
        Assert.True(root.GetProperty("parameters").GetInt64() > 0);
        Assert.Contains("epoch 2/2", error);
    }

    [Fact]
    public void The_same_seed_gives_the_same_run_and_another_seed_another()
    {
        WriteSet("train", count: 10, labelOffset: 0);
        WriteSet("t10k", count: 4, labelOffset: 1);
        double[] Losses(string seed)
        {
            var (code, output, error) = CliRunner.Run("bench", "fashion-mnist", "--arch", "cifar_resnet8", "--image-size", "8", "--epochs", "2",
                "--batch-size", "4", "--data", folder, "--seed", seed, "--json");
            Assert.True(code == 0, error);
            return [.. JsonDocument.Parse(output).RootElement.GetProperty("history").EnumerateArray()
                .SelectMany(e => new[] { e.GetProperty("train_loss").GetDouble(), e.GetProperty("test_loss").GetDouble() })];
        }

        Assert.Equal(Losses("3"), Losses("3"));
        Assert.NotEqual(Losses("3"), Losses("4"));
    }

    [Fact]
    public void A_labels_file_that_does_not_fit_the_images_fails_with_a_message()
    {
        WriteSet("train", count: 3, labelOffset: 0);
        WriteGzip("train-labels-idx1-ubyte.gz", [0, 0, 8, 1, 0, 0, 0, 2, 3, 4]);
        var (code, _, error) = CliRunner.Run("bench", "fashion-mnist", "--arch", "cifar_resnet8", "--data", folder);
        Assert.Equal(1, code);
        Assert.Contains("do not fit together", error);
    }

    /// <summary>Writes <paramref name="count"/> 28x28 images (each a constant gray level) and their labels in the IDX format.</summary>
    private void WriteSet(string prefix, int count, int labelOffset)
    {
        byte[] header = [0, 0, 8, 3, 0, 0, 0, (byte)count, 0, 0, 0, 28, 0, 0, 0, 28];
        var pixels = Enumerable.Range(0, count).SelectMany(i => Enumerable.Repeat((byte)(i * 20), 28 * 28));
        WriteGzip($"{prefix}-images-idx3-ubyte.gz", [.. header, .. pixels]);
        WriteGzip($"{prefix}-labels-idx1-ubyte.gz", [0, 0, 8, 1, 0, 0, 0, (byte)count, .. Enumerable.Range(0, count).Select(i => (byte)((i + labelOffset) % 10))]);
    }

    private void WriteGzip(string name, byte[] content)
    {
        using var file = File.Create(Path.Combine(folder, name));
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(content);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);
}
