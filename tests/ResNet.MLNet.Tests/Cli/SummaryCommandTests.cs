using System.Text.Json;

namespace ResNet.MLNet.Tests.Cli;

public class SummaryCommandTests
{
    [Fact]
    public void Json_reports_arch_parameters_macs_and_input_size()
    {
        var (code, output, _) = CliRunner.Run("summary", "--arch", "resnet34", "--json");
        Assert.Equal(0, code);
        var root = JsonDocument.Parse(output).RootElement;
        Assert.Equal("resnet34", root.GetProperty("arch").GetString());
        Assert.Equal(21_797_672, root.GetProperty("parameters").GetInt64());
        Assert.Equal(224, root.GetProperty("input_size").GetInt32());
        Assert.InRange(root.GetProperty("macs").GetInt64() / 1e9, 3.664 * 0.99, 3.664 * 1.01);
        Assert.Equal(6, root.GetProperty("stages").GetArrayLength());
    }

    [Fact]
    public void Table_lists_every_stage_and_the_total()
    {
        var (code, output, _) = CliRunner.Run("summary", "--arch", "cifar_resnet20", "--input-size", "32");
        Assert.Equal(0, code);
        foreach (string row in new[] { "stem", "layer1", "layer2", "layer3", "head", "total", "269,722" })
            Assert.Contains(row, output);
    }

    [Fact]
    public void List_names_every_architecture()
    {
        var (code, output, _) = CliRunner.Run("summary", "--list");
        Assert.Equal(0, code);
        foreach (string name in ResNet.MLNet.Models.ResNetModels.Names)
            Assert.Contains(name, output);
    }

    [Fact]
    public void Unknown_architecture_fails_with_the_valid_names()
    {
        var (code, _, error) = CliRunner.Run("summary", "--arch", "resnet19");
        Assert.Equal(1, code);
        Assert.Contains("Unknown architecture 'resnet19'", error);
        Assert.Contains("resnet50", error);
    }
}
