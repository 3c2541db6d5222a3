using Microsoft.DotNet.Interactive.Formatting;
using Microsoft.ML;
using Microsoft.ML.Data;
using ResNet.MLNet.Interactive;
using ResNet.MLNet.Models;

namespace ResNet.MLNet.Tests.Interactive;

public class InteractiveDisplayTests
{
    [Fact]
    public void Model_summary_renders_as_an_HTML_table_and_aligned_text_through_the_formatters()
    {
        Formatters.Register();
        Formatters.Register(); // idempotent
        using var model = ResNetModels.CifarResNet(20);
        var summary = ModelSummary.Of(model, 32);

        string html = summary.ToDisplayString(HtmlFormatter.MimeType);
        string text = summary.ToDisplayString(PlainTextFormatter.MimeType);

        Assert.Contains("<table", html);
        Assert.Contains("<td style=\"padding:2px 8px;text-align:right;font-variant-numeric:tabular-nums\">269,722</td>", html);
        Assert.Contains("cifar_resnet20 at 32x32: 0.27M parameters", text);
        var total = text.Split('\n').Single(l => l.StartsWith("total", StringComparison.Ordinal));
        Assert.EndsWith("269,722  40,551,040", total.TrimEnd());
    }

    [Fact]
    public void Confusion_matrix_names_the_classes_and_shades_cells_by_their_share_of_the_row()
    {
        var ml = new MLContext(seed: 0);
        // (true, predicted) class indices; LoadFromEnumerable takes key values 0-based.
        var rows = new[] { (0u, 0u), (0u, 1u), (1u, 1u), (1u, 1u) }
            .Select(r => new Scored { Label = r.Item1, PredictedLabel = r.Item2, Score = r.Item2 == 0 ? [0.9f, 0.1f] : [0.1f, 0.9f] });
        var data = ml.Data.LoadFromEnumerable(rows, SchemaWithKeys(ml));
        var metrics = ml.MulticlassClassification.Evaluate(data);

        var table = Tables.Of(metrics.ConfusionMatrix, ["cat", "dog"]);
        Assert.Equal(["", "cat", "dog", "recall"], table.Header);
        Assert.Equal("cat", table.Rows[0][0].Text);
        Assert.Equal(0.5, table.Rows[0][1].Shade);
        Assert.Equal("0.500", table.Rows[0][3].Text);
        Assert.Equal("precision", table.Rows[2][0].Text);
        Assert.Throws<ArgumentException>(() => Tables.Of(metrics.ConfusionMatrix, ["cat"]));
    }

    [Fact]
    public void Rows_of_anonymous_objects_become_a_table_of_their_properties()
    {
        var table = Tables.OfRows(new[] { new { Name = "a", Count = 1200, Share = 0.25 }, new { Name = "b", Count = 3, Share = 0.75 } });
        Assert.Equal(["Name", "Count", "Share"], table.Header);
        Assert.Equal(["Name  Count  Share", "----  -----  -----", "a      1200   0.25", "b         3   0.75"], table.ToText().Split('\n'));
    }

    [Fact]
    public void Line_chart_renders_as_SVG_with_a_dashed_companion_in_the_colour_of_its_solid_line()
    {
        var chart = Charts.Lines("loss", "epoch", "loss",
        [
            new Series("train", [1, 2, 3], [1.0, 0.5, 0.25]),
            new Series("validation", [1, 2, 3], [1.1, 0.7, 0.4], Dashed: true),
            new Series("other", [1, 2, 3], [2.0, 1.0, 0.5]),
        ]);
        var lines = chart.Plot.Lines;
        Assert.Equal(lines[0].Color, lines[1].Color);
        Assert.NotEqual(lines[0].Color, lines[2].Color);
        Assert.True(lines[1].Dashed);

        var svg = Charts.Render(chart);
        Assert.StartsWith("<?xml", svg.Svg);
        Assert.Contains("validation", svg.Svg);
        Assert.Contains("sans-serif", svg.Svg);
        Assert.Equal((Charts.DefaultWidth, Charts.DefaultHeight), (svg.Width, svg.Height));
        Assert.StartsWith("<img src=\"data:image/svg+xml;base64,", svg.ToHtml());
        Assert.Equal("[chart: loss]", chart.ToDisplayString(PlainTextFormatter.MimeType));
    }

    [Fact]
    public void Charts_side_by_side_share_one_picture()
    {
        var a = Charts.Lines("first chart", "x", "y", [new Series("s", [0, 1], [0, 1])]);
        var b = Charts.Lines("second chart", "x", "y", [new Series("s", [0, 1], [1, 0])]);
        var picture = Charts.SideBySide([a, b], width: 300, height: 200);
        Assert.Equal((600, 200), (picture.Width, picture.Height));
        Assert.Contains("first chart", picture.Svg);
        Assert.Contains("second chart", picture.Svg);
        Assert.Equal("first chart | second chart", picture.Title);
    }

    [Fact]
    public void Feature_maps_embed_PNG_tiles_that_decode_to_the_viridis_colours_of_their_values()
    {
        var map = new FeatureMap("ramp", 2, 3, [0f, 1f, 2f, 3f, 4f, 5f]);
        var picture = Charts.FeatureMaps([map], cellSize: 96, title: "maps");
        string base64 = picture.Svg.Split("data:image/png;base64,")[1].Split('"')[0];
        string path = Path.Combine(Path.GetTempPath(), $"tile-{Guid.NewGuid():N}.png");
        File.WriteAllBytes(path, Convert.FromBase64String(base64));
        try
        {
            using var image = MLImage.CreateFromFile(path); // ML.NET's decoder reads the embedded tile
            // Enlarged without smoothing to the cell: 96 wide, 2/3 as high, each value a 32-pixel square.
            Assert.Equal((96, 64), (image.Width, image.Height));
            int channels = image.Pixels.Length / (96 * 64);
            byte[] first = image.Pixels[..channels].ToArray(), last = image.Pixels[^channels..].ToArray();
            byte[] low = [0x44, 0x01, 0x54], high = [0xfd, 0xe7, 0x25]; // viridis at 0 and 1
            Assert.Equal(image.PixelFormat == MLPixelFormat.Bgra32 ? [low[2], low[1], low[0]] : low, first[..3]);
            Assert.Equal(image.PixelFormat == MLPixelFormat.Bgra32 ? [high[2], high[1], high[0]] : high, last[..3]);
            // Blocky, not smoothed: the pixel before the first block's edge still has the lowest value's colour.
            Assert.Equal(first[..3], image.Pixels.Slice(31 * channels, 3).ToArray());
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Throws<ArgumentException>(() => Charts.FeatureMaps([new FeatureMap("bad", 2, 3, [1f])]));
    }

    private static SchemaDefinition SchemaWithKeys(MLContext ml)
    {
        var schema = SchemaDefinition.Create(typeof(Scored));
        schema["Label"].ColumnType = new KeyDataViewType(typeof(uint), 2);
        schema["PredictedLabel"].ColumnType = new KeyDataViewType(typeof(uint), 2);
        schema["Score"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 2);
        return schema;
    }

    private sealed class Scored
    {
        public uint Label { get; set; }
        public uint PredictedLabel { get; set; }
        public float[] Score { get; set; } = [];
    }
}
