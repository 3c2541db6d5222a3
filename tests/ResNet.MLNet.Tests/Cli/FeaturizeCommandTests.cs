using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ResNet.MLNet.Data;
using ResNet.MLNet.Models;
using ResNet.MLNet.Tests.TestSupport;

namespace ResNet.MLNet.Tests.Cli;

/// <summary><c>featurize</c>: one CSV row per image with the featurizer's embedding, progress, and clean failures.</summary>
public class FeaturizeCommandTests
{
    private static readonly string CifarWeights = Fixtures.Path("weights", "cifar_resnet20.pth");

    /// <summary>A small image folder: classes "bag" and "coat, long" (a comma to quote) with three sample images each.</summary>
    private static TempDirectory SmallFolder()
    {
        var dir = new TempDirectory();
        foreach (var (source, target) in new[] { ("bag", "bag"), ("coat", "coat, long") })
        {
            Directory.CreateDirectory(dir.File(target));
            foreach (string image in Directory.GetFiles(Path.Combine(Repo.SampleData, "test", source)).Order(StringComparer.Ordinal).Take(3))
                File.Copy(image, Path.Combine(dir.File(target), Path.GetFileName(image)));
        }
        return dir;
    }

    [Fact]
    public void Should_write_one_row_per_image_with_the_featurizers_embedding()
    {
        using var dir = SmallFolder();
        string csv = dir.File("features.csv");

        var (code, output, error) = CliRunner.Run("featurize", "--data", dir.Path, "--arch", "cifar_resnet20", "--weights", CifarWeights,
            "--batch-size", "4", "--out", csv); // 6 images: a full batch and a partial one

        Assert.True(code == 0, error);
        Assert.Contains("Wrote 6 rows x 64 features (cifar_resnet20)", output);
        Assert.Contains("Loaded 116 tensors", error);
        var lines = File.ReadAllLines(csv);
        Assert.Equal(["path", "label", .. Enumerable.Range(0, 64).Select(i => $"f{i}")], lines[0].Split(','));
        Assert.Equal(7, lines.Length);
        Assert.StartsWith(Path.Combine(dir.Path, "bag") + Path.DirectorySeparatorChar, lines[1]);
        Assert.Contains(",bag,", lines[1]);
        Assert.Contains($"\"{Path.Combine(dir.Path, "coat, long")}", lines[4]); // quoted: the folder name has a comma
        Assert.Contains(",\"coat, long\",", lines[4]);
        Assert.False(File.Exists(csv + ".partial"));

        // The same numbers as the featurizer gives through the library.
        var expected = Embeddings(dir.Path);
        for (int row = 0; row < 6; row++)
        {
            var values = lines[row + 1].Split(',')[^64..].Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            AssertClose.Relative(expected[row], values, 1e-6);
        }
    }

    [Fact]
    public void Should_read_a_split_and_report_progress()
    {
        using var dir = new TempDirectory();
        string csv = dir.File("test.csv");

        var (code, output, error) = CliRunner.Run("featurize", "--data", Repo.SampleData, "--split", "test", "--arch", "cifar_resnet20", "--out", csv);

        Assert.True(code == 0, error);
        Assert.Equal(101, File.ReadAllLines(csv).Length); // 100 test images and the header
        Assert.Contains("featurizing 100 images", output); // the progress task (plain lines when not on a terminal)
        Assert.Contains("100%", output);
    }

    [Theory]
    [InlineData("missing-folder")]
    [InlineData("missing-split")]
    [InlineData("unknown-arch")]
    [InlineData("missing-weights")]
    [InlineData("weights-of-another-arch")]
    [InlineData("corrupt-image")]
    public void Bad_input_fails_with_one_clear_message_and_leaves_no_file(string problem)
    {
        using var dir = SmallFolder();
        File.WriteAllText(Path.Combine(dir.File("bag"), "zz_corrupt.png"), "not a png");
        string csv = dir.File("features.csv");
        var (args, expected) = problem switch
        {
            "missing-folder" => (new[] { "--data", dir.File("nowhere"), "--arch", "cifar_resnet20" }, "nowhere"),
            "missing-split" => (["--data", dir.Path, "--split", "train", "--arch", "cifar_resnet20"], "has no 'train' sub-folder"),
            "unknown-arch" => (["--data", dir.Path, "--arch", "resnet19"], "Unknown architecture 'resnet19'"),
            "missing-weights" => (["--data", dir.Path, "--arch", "cifar_resnet20", "--weights", dir.File("missing.pth")], "missing.pth"),
            "weights-of-another-arch" => (["--data", dir.Path, "--arch", "cifar_resnet32", "--weights", CifarWeights], "missing: layer1.3.conv1.weight"),
            _ => (["--data", dir.Path, "--arch", "cifar_resnet20"], "zz_corrupt.png"),
        };

        CliRunner.AssertFails(CliRunner.Run(["featurize", .. args, "--out", csv]), expected, progressMayPrint: true);
        Assert.False(File.Exists(csv));
        Assert.False(File.Exists(csv + ".partial"));
    }

    /// <summary>Embeddings of the folder's images from the library's own pipeline, in folder order.</summary>
    private static List<float[]> Embeddings(string folder)
    {
        var ml = new MLContext(seed: 0);
        var images = ml.Data.LoadImagesFromFolder(folder);
        using var network = ResNetModels.Build("cifar_resnet20", 10);
        var model = ml.Transforms.LoadImages("Image", null, "ImagePath").Append(ml.Transforms.ResNetFeaturizer(new ResNetFeaturizerOptions
        {
            InputColumnName = "Image", Model = network, WeightsPath = CifarWeights, ImageSize = 32,
        })).Fit(images);
        using var featurizer = model.LastTransformer;
        return MLNet.ResNetFeaturizerTests.Features(model.Transform(images), "Features");
    }
}
