using ResNet.MLNet.Cli;
using ResNet.MLNet.Tests.TestSupport;
using ResNet.MLNet.Tests.Weights;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Tests.Cli;

/// <summary>Every failure at a command's edge is one line naming what is wrong; exit 1 for bad input, 2 for usage.</summary>
public class OneLineErrorTests
{
    /// <summary>A data folder of two classes of <paramref name="perClass"/> sample images each.</summary>
    private static string TestSplit(TempDirectory dir, int perClass = 2) => SampleImages.Folder(Path.Combine(dir.Path, "data"), perClass);

    [Fact]
    public void Evaluate_names_a_zip_or_a_file_that_is_not_a_model()
    {
        using var dir = new TempDirectory();
        string data = TestSplit(dir);
        string zip = dir.File("not-a-model.zip");
        using (var archive = System.IO.Compression.ZipFile.Open(zip, System.IO.Compression.ZipArchiveMode.Create))
        {
            using var entry = new StreamWriter(archive.CreateEntry("readme.txt").Open());
            entry.Write("not a model");
        }
        string random = dir.File("random.zip");
        File.WriteAllBytes(random, [.. Enumerable.Range(0, 1000).Select(i => (byte)(i * 37))]);

        foreach (string model in new[] { zip, random })
        {
            var result = CliRunner.Run("evaluate", "--model", model, "--data", data);
            CliRunner.AssertFails(result, $"'{model}' is not an ML.NET model");
            Assert.Single(result.Error.TrimEnd().Split('\n'));
        }
    }

    [Fact]
    public void Evaluate_names_an_image_whose_header_is_fine_but_whose_data_is_not()
    {
        using var dir = new TempDirectory();
        string data = TestSplit(dir, perClass: 5); // 1 of 5 held out for testing
        string output = dir.File("run");
        var trained = CliRunner.Run("finetune", "--data", data, "--arch", "cifar_resnet20", "--image-size", "28", "--epochs", "1",
            "--batch-size", "2", "--out", output);
        Assert.True(trained.ExitCode == 0, trained.Error);
        string corrupt = Path.Combine(data, "bag", "corrupt.png");
        File.WriteAllBytes(corrupt, HostileImages.Png(10, 10)); // IHDR and IEND are right; the IDAT is not zlib data

        var result = CliRunner.Run("evaluate", "--model", Path.Combine(output, "model.zip"), "--data", data);

        CliRunner.AssertFails(result, corrupt);
        Assert.DoesNotContain("Splitter/consolidator", result.Error);
    }

    [Fact]
    public void A_zip_layer_failure_names_the_weights_file()
    {
        using var dir = new TempDirectory();
        byte[] file = File.ReadAllBytes(WeightsFixtures.PathOf("tiny.pth"));
        string cut = dir.File("cut.pth");
        File.WriteAllBytes(cut, file[..(file.Length * 3 / 4)]); // the central directory is at the end

        var e = Assert.Throws<InvalidDataException>(() => WeightsFile.Read(cut));

        Assert.Contains(cut, e.Message);
        CliRunner.AssertFails(CliRunner.Run("inspect", cut), cut);
    }

    [Theory]
    [InlineData("finetune")] // --data is required
    [InlineData("inspect")] // the file argument is missing
    [InlineData("predict", "--image", "x.png", "--no-such-option")]
    public void A_command_line_that_does_not_parse_exits_2_with_one_line(params string[] args)
    {
        var (code, output, error) = CliRunner.Run(args);

        Assert.Equal(CliOutput.Usage, code);
        Assert.StartsWith($"error: resnet-mlnet {args[0]}: ", error);
        Assert.Contains($"Run 'resnet-mlnet {args[0]} --help' for the options.", error);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Equal("", output);
    }

    [Fact]
    public void Messages_lose_dotnet_parameter_suffixes_and_keep_their_text()
    {
        Assert.Equal("--top must be positive.", CliOutput.MessageOf(new ArgumentException("--top must be positive.", "top")));
        Assert.Equal("Specified argument was out of the range of valid values.",
            CliOutput.MessageOf(new ArgumentOutOfRangeException("size", -3, null)));
        Assert.Equal("inner", CliOutput.MessageOf(new AggregateException(new InvalidDataException("inner"))));

        var (code, _, error) = CliRunner.Run("summary", "--arch", "resnet19");
        Assert.Equal(1, code);
        Assert.DoesNotContain("(Parameter", error);
    }
}
