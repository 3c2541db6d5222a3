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

    [Fact]
    public void Should_write_Parquet_with_the_same_rows_as_CSV_and_its_provenance()
    {
        using var dir = SmallFolder();
        string csv = dir.File("features.csv"), parquet = dir.File("features.parquet");
        string[] common = ["featurize", "--data", dir.Path, "--arch", "cifar_resnet20", "--weights", CifarWeights, "--batch-size", "4"];
        Assert.Equal(0, CliRunner.Run([.. common, "--out", csv]).ExitCode);
        var (code, output, error) = CliRunner.Run([.. common, "--out", parquet]);
        Assert.True(code == 0, error);
        Assert.Contains("Wrote 6 rows x 64 features", output);

        var table = ReadParquet(parquet);
        var lines = File.ReadAllLines(csv)[1..];
        Assert.Equal(6, table.Rows.Count);
        for (int r = 0; r < 6; r++)
        {
            var (path, label, features) = table.Rows[r];
            Assert.StartsWith(Path.Combine(dir.Path, label) + Path.DirectorySeparatorChar, path); // "coat, long" unquoted here
            var expected = lines[r].Split(',')[^64..].Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(expected, features); // CSV prints floats round-trippably
        }
        Assert.Equal("cifar_resnet20", table.Metadata["resnet_mlnet.architecture"]);
        Assert.Equal("0/1", table.Metadata["resnet_mlnet.shard"]);

        // An existing output is kept unless --force.
        CliRunner.AssertFails(CliRunner.Run([.. common, "--out", parquet]), "exists; pass --force");
        Assert.Equal(0, CliRunner.Run([.. common, "--out", parquet, "--force"]).ExitCode);
    }

    [Fact]
    public void Shards_split_the_sorted_list_disjointly_into_parts_that_together_equal_the_whole()
    {
        using var dir = SmallFolder();
        string parts = Directory.CreateDirectory(dir.File("parts")).FullName, whole = dir.File("whole.parquet");
        string[] common = ["featurize", "--data", dir.Path, "--arch", "cifar_resnet20", "--batch-size", "4"];
        Assert.Equal(0, CliRunner.Run([.. common, "--out", whole]).ExitCode);
        foreach (string shard in new[] { "0/4", "1/4", "2/4", "3/4" })
        {
            var (code, output, error) = CliRunner.Run([.. common, "--out", parts, "--shard", shard]);
            Assert.True(code == 0, error);
            Assert.Contains($"(shard {shard})", output);
        }

        var files = Directory.GetFiles(parts).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["part-00000-of-00004.parquet", "part-00001-of-00004.parquet", "part-00002-of-00004.parquet", "part-00003-of-00004.parquet"],
            files.Select(Path.GetFileName));
        var shards = files.Select(ReadParquet).ToArray();
        Assert.Equal([2, 2, 1, 1], shards.Select(t => t.Rows.Count)); // 6 images dealt round-robin
        var all = ReadParquet(whole).Rows;
        for (int i = 0; i < all.Count; i++)
        {
            var fromShard = shards[i % 4].Rows[i / 4];
            Assert.Equal(all[i].Path, fromShard.Path);
            Assert.Equal(all[i].Features, fromShard.Features);
        }
    }

    [Theory]
    [InlineData("3/2", "numbered from 0 to 1")]
    [InlineData("0/0", "at least 1")]
    [InlineData("1", "not of the form i/n")]
    [InlineData("-1/2", "not of the form i/n")]
    [InlineData("a/b", "not of the form i/n")]
    public void A_bad_shard_spec_fails_naming_it(string spec, string expected)
    {
        using var dir = SmallFolder();
        string parquet = dir.File("features.parquet");
        CliRunner.AssertFails(CliRunner.Run("featurize", "--data", dir.Path, "--arch", "cifar_resnet20", "--out", parquet, "--shard", spec), expected);
        Assert.Contains($"--shard '{spec}'", CliRunner.Run("featurize", "--data", dir.Path, "--arch", "cifar_resnet20", "--out", parquet, "--shard", spec).Error);
        Assert.False(File.Exists(parquet));
    }

    private sealed record ParquetTable(List<(string Path, string Label, float[] Features)> Rows, IReadOnlyDictionary<string, string> Metadata);

    /// <summary>Reads a features file with Parquet.Net: path, label and every f column, row by row.</summary>
    private static ParquetTable ReadParquet(string file)
    {
        using var stream = File.OpenRead(file);
        var reader = Parquet.ParquetReader.CreateAsync(stream).GetAwaiter().GetResult();
        try
        {
            return Read(reader);
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static ParquetTable Read(Parquet.ParquetReader reader)
    {
        var fields = reader.Schema.GetDataFields();
        var rows = new List<(string, string, float[])>();
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            int n = (int)group.RowCount;
            var paths = new string?[n];
            var labels = new string?[n];
            group.ReadAsync(fields[0], paths.AsMemory()).GetAwaiter().GetResult();
            group.ReadAsync(fields[1], labels.AsMemory()).GetAwaiter().GetResult();
            var columns = fields.Skip(2).Select(f =>
            {
                var values = new float[n];
                group.ReadAsync(f, values.AsMemory()).GetAwaiter().GetResult();
                return values;
            }).ToArray();
            for (int r = 0; r < n; r++)
                rows.Add((paths[r]!, labels[r]!, columns.Select(c => c[r]).ToArray()));
        }
        Assert.Equal(["path", "label", .. Enumerable.Range(0, fields.Length - 2).Select(i => $"f{i}")], fields.Select(f => f.Name));
        return new ParquetTable(rows, reader.CustomMetadata);
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
