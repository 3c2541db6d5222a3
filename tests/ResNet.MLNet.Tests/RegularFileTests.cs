using ResNet.MLNet.Data;
using ResNet.MLNet.Tests.TestSupport;
using ResNet.MLNet.Weights;
using static ResNet.MLNet.Tests.Weights.WeightsFixtures;

namespace ResNet.MLNet.Tests;

/// <summary>Symbolic links are judged by the files they lead to (Hugging Face's cache and symlinked dataset splits use them).</summary>
public class RegularFileTests
{
    [Fact]
    public void A_linked_weights_file_and_a_linked_image_read_as_their_targets()
    {
        using var temp = new TempDirectory();
        string weights = temp.File("model.safetensors"), image = temp.File("bag.png");
        File.CreateSymbolicLink(weights, PathOf("tiny.safetensors"));
        string sample = Directory.EnumerateFiles(Path.Combine(Repo.SampleData, "test", "bag")).Order(StringComparer.Ordinal).First();
        File.CreateSymbolicLink(image, sample);

        Assert.Equal(new FileInfo(PathOf("tiny.safetensors")).Length, RegularFile.Check(weights, "a weights file"));
        Assert.Equal(Read("tiny.safetensors").Tensors.Select(t => t.Name), WeightsFile.Read(weights).Tensors.Select(t => t.Name));
        Assert.Equal(ImageHeader.Read(sample), ImageHeader.Read(image));
    }

    [Fact]
    public void A_dangling_link_names_its_missing_target_and_a_link_to_an_empty_file_is_refused()
    {
        using var temp = new TempDirectory();
        string dangling = temp.File("gone.safetensors"), empty = temp.File("empty.png");
        File.CreateSymbolicLink(dangling, temp.File("blob-that-was-deleted"));
        File.WriteAllBytes(temp.File("empty-target.png"), []);
        File.CreateSymbolicLink(empty, temp.File("empty-target.png"));

        var missing = Assert.Throws<FileNotFoundException>(() => WeightsFile.Read(dangling));
        Assert.Contains("gone.safetensors' is a link to", missing.Message);
        Assert.Contains("blob-that-was-deleted', which does not exist", missing.Message);
        var refused = Assert.Throws<InvalidDataException>(() => ImageHeader.Read(empty));
        Assert.Contains("empty.png' is not an image: it is empty", refused.Message);
    }
}
