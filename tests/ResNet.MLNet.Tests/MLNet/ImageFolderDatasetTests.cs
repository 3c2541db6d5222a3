using Microsoft.ML.Data;
using ResNet.MLNet.Data;
using ResNet.MLNet.Tests.TestSupport;

namespace ResNet.MLNet.Tests.MLNet;

public class ImageFolderDatasetTests
{
    [Fact]
    public void Loads_a_split_with_its_classes_in_folder_order_and_the_exact_gray_pixels()
    {
        var options = new ImageFolderOptions { Split = "test" };
        using var data = ImageFolderDataset.Load(Repo.SampleData, size: 28, channels: 1, options);
        var entries = ImageFolder.List(Repo.SampleData, options);

        Assert.Equal(entries.Count, data.Count);
        Assert.Equal(entries.Select(e => e.Label).Distinct(), data.ClassNames);
        Assert.Equal((1, 28, 28), (data.Channels, data.Height, data.Width));
        Assert.Equal(entries.Select(e => (long)data.ClassNames.ToList().IndexOf(e.Label)), data.Labels);

        // At its own size a gray PNG keeps its bytes: the first image's pixels equal the decoded file's.
        using var image = MLImage.CreateFromFile(entries[0].ImagePath);
        int bytesPerPixel = image.Pixels.Length / (28 * 28);
        byte[] expected = Enumerable.Range(0, 28 * 28).Select(p => image.Pixels[p * bytesPerPixel]).ToArray();
        Assert.Equal(expected, data.Images[0].flatten().data<byte>().ToArray());
    }

    [Fact]
    public void Resizes_and_makes_RGB_on_request()
    {
        using var data = ImageFolderDataset.Load(Repo.SampleData, size: 16, channels: 3, new ImageFolderOptions { Split = "test" });
        Assert.Equal((3, 16, 16), (data.Channels, data.Height, data.Width));
        Assert.Throws<ArgumentException>(() => ImageFolderDataset.Load(Repo.SampleData, size: 16, channels: 2));
    }
}
