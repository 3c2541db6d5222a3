using ResNet.MLNet.Tests.TestSupport;

namespace ResNet.MLNet.Tests.Cli;

/// <summary>Every command that reads images refuses a decompression bomb before decoding it, with one line naming the file.</summary>
public class HostileImageCommandTests
{
    /// <summary>An image folder (train/ and test/, two classes of sample images) with a bomb in the test split.</summary>
    private static (TempDirectory Dir, string Bomb) FolderWithBomb()
    {
        var dir = new TempDirectory();
        SampleImages.Folder(Path.Combine(dir.Path, "data"), perClass: 2, "train", "test");
        string bomb = Path.Combine(dir.Path, "data", "test", "bag", "bomb.png");
        File.WriteAllBytes(bomb, HostileImages.Png(30000, 30000));
        return (dir, bomb);
    }

    private static void AssertRefusesBomb((int ExitCode, string Output, string Error) result, string bomb, bool progressMayPrint = false)
    {
        CliRunner.AssertFails(result, bomb, progressMayPrint);
        Assert.Contains("decompression bomb", result.Error);
    }

    [Fact]
    public void Predict_refuses_a_gif_bomb()
    {
        using var dir = new TempDirectory();
        string bomb = dir.File("bomb.gif");
        File.WriteAllBytes(bomb, HostileImages.Gif(65535, 65535));

        var result = CliRunner.Run("predict", "--arch", "cifar_resnet20", "--weights", Fixtures.Path("weights", "cifar_resnet20.pth"), "--image", bomb);

        CliRunner.AssertFails(result, bomb);
        Assert.Contains("--max-image-pixels", result.Error);
        // The limit is the one given on the command line.
        var raised = CliRunner.Run("predict", "--arch", "cifar_resnet20", "--weights", Fixtures.Path("weights", "cifar_resnet20.pth"), "--image",
            PredictFixtures.PathOf("gray.png"), "--max-image-pixels", "599");
        CliRunner.AssertFails(raised, "more than the limit of 599");
    }

    [Fact]
    public void Featurize_and_evaluate_refuse_a_png_bomb_in_the_folder()
    {
        var (dir, bomb) = FolderWithBomb();
        using (dir)
        {
            string csv = dir.File("features.csv");
            var featurize = CliRunner.Run("featurize", "--data", Path.Combine(dir.Path, "data"), "--split", "test", "--arch", "cifar_resnet20",
                "--image-size", "28", "--out", csv);
            AssertRefusesBomb(featurize, bomb, progressMayPrint: true);
            Assert.False(File.Exists(csv));

            string notAModel = dir.File("model.zip");
            File.WriteAllBytes(notAModel, [0x50, 0x4B, 0x05, 0x06, .. new byte[18]]); // an empty zip: images are checked first
            var evaluate = CliRunner.Run("evaluate", "--model", notAModel, "--data", Path.Combine(dir.Path, "data"));
            AssertRefusesBomb(evaluate, bomb);
        }
    }

    [Fact]
    public void Finetune_refuses_a_bomb_in_the_test_split_before_training_or_touching_the_output()
    {
        var (dir, bomb) = FolderWithBomb();
        using (dir)
        {
            string output = dir.File("out");
            var result = CliRunner.Run("finetune", "--data", Path.Combine(dir.Path, "data"), "--arch", "cifar_resnet20", "--image-size", "28",
                "--epochs", "1", "--out", output);

            AssertRefusesBomb(result, bomb, progressMayPrint: true);
            Assert.False(Directory.Exists(output));
        }
    }

    [Fact]
    public void Finetune_with_skip_corrupt_leaves_the_bad_images_out_and_lists_them()
    {
        var (dir, bomb) = FolderWithBomb();
        using (dir)
        {
            string truncated = Path.Combine(dir.Path, "data", "train", "coat", "cut.png");
            File.WriteAllBytes(truncated, HostileImages.Png(28, 28, truncated: true));
            string output = dir.File("out");

            var result = CliRunner.Run("finetune", "--data", Path.Combine(dir.Path, "data"), "--arch", "cifar_resnet20", "--image-size", "28",
                "--epochs", "1", "--batch-size", "2", "--out", output, "--skip-corrupt");

            Assert.True(result.ExitCode == 0, result.Error);
            var warnings = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, warnings.Length);
            Assert.All(warnings, w => Assert.StartsWith("warning: skipped ", w));
            Assert.Contains(truncated, warnings[0]);
            Assert.Contains(bomb, warnings[1]);
            Assert.True(File.Exists(Path.Combine(output, "model.zip")));
        }
    }
}
