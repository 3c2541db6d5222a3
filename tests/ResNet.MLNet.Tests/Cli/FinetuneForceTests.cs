using ResNet.MLNet.Applications;
using ResNet.MLNet.Tests.TestSupport;

namespace ResNet.MLNet.Tests.Cli;

/// <summary><c>finetune --force</c> never deletes images or anything a previous run did not write.</summary>
public class FinetuneForceTests
{
    /// <summary>data/train and data/test with two classes of two sample images each.</summary>
    private static string SmallData(TempDirectory dir) => SampleImages.Folder(Path.Combine(dir.Path, "data"), perClass: 2, "train", "test");

    private static (int, string, string) Finetune(string data, string output, params string[] more) =>
        CliRunner.Run(["finetune", "--data", data, "--arch", "cifar_resnet20", "--image-size", "28", "--epochs", "1", "--batch-size", "4",
            "--out", output, .. more]);

    private static int ImageCount(string data) => Directory.GetFiles(data, "*.png", SearchOption.AllDirectories).Length;

    [Fact]
    public void Should_refuse_an_output_that_is_holds_or_lies_inside_the_data_folder()
    {
        using var dir = new TempDirectory();
        string data = SmallData(dir);
        foreach (var (output, relation) in new[] { (data, "is"), (dir.Path, "contains"), (Path.Combine(data, "train", "out"), "is inside") })
        {
            var result = Finetune(data, output, "--force");
            CliRunner.AssertFails(result, $"'{output}' {relation} the data folder '{data}'", progressMayPrint: true);
            Assert.Equal(8, ImageCount(data));
        }
        Assert.False(Directory.Exists(Path.Combine(data, "train", "out")));
    }

    [Fact]
    public void Should_check_the_data_before_touching_a_finished_run()
    {
        using var dir = new TempDirectory();
        string run = Directory.CreateDirectory(dir.File("run")).FullName;
        File.WriteAllText(Path.Combine(run, ImageFolderFineTuning.OutputMarker), "");
        File.WriteAllText(Path.Combine(run, "model.zip"), "a finished run");

        var result = Finetune(dir.File("dtaa"), run, "--force"); // mistyped --data

        CliRunner.AssertFails(result, "does not exist", progressMayPrint: true);
        Assert.True(File.Exists(Path.Combine(run, "model.zip")));
    }

    [Fact]
    public void Should_refuse_to_force_over_a_folder_no_run_wrote()
    {
        using var dir = new TempDirectory();
        string data = SmallData(dir);
        string mine = Directory.CreateDirectory(dir.File("my-documents")).FullName;
        File.WriteAllText(Path.Combine(mine, "thesis.txt"), "precious");

        var result = Finetune(data, mine, "--force");

        CliRunner.AssertFails(result, $"'{mine}' was not written by finetune (it has no {ImageFolderFineTuning.OutputMarker} file)", progressMayPrint: true);
        Assert.Equal("precious", File.ReadAllText(Path.Combine(mine, "thesis.txt")));
    }

    [Fact]
    public void Should_replace_only_what_the_previous_run_wrote()
    {
        using var dir = new TempDirectory();
        string data = SmallData(dir);
        string run = dir.File("run");
        var first = Finetune(data, run, "--keep-checkpoints");
        Assert.True(first.Item1 == 0, first.Item3);
        Assert.True(File.Exists(Path.Combine(run, ImageFolderFineTuning.OutputMarker)));
        Assert.True(Directory.Exists(Path.Combine(run, "checkpoints")), "--keep-checkpoints removed the checkpoints");
        File.WriteAllText(Path.Combine(run, "notes.txt"), "mine");
        File.WriteAllText(Path.Combine(run, "checkpoints", "stale.tmp"), "");
        File.Delete(Path.Combine(run, "model.onnx"));
        DateTime before = File.GetLastWriteTimeUtc(Path.Combine(run, "model.zip"));

        var second = Finetune(data, run, "--force");

        Assert.True(second.Item1 == 0, second.Item3);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(run, "notes.txt")));
        Assert.False(File.Exists(Path.Combine(run, "checkpoints", "stale.tmp")));
        Assert.False(Directory.Exists(Path.Combine(run, "checkpoints")), "a successful run without --keep-checkpoints kept them");
        Assert.True(File.Exists(Path.Combine(run, "weights.safetensors")));
        Assert.True(File.Exists(Path.Combine(run, "model.onnx")));
        Assert.True(File.GetLastWriteTimeUtc(Path.Combine(run, "model.zip")) >= before);
        Assert.Equal(8, ImageCount(data));
    }
}
