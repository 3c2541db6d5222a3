using Microsoft.ML;
using Microsoft.ML.Data;
using ResNet.MLNet.Cli.Commands;

namespace ResNet.MLNet.Tests.MLNet;

/// <summary>The in-memory featurizer's pixel reading equals ML.NET's ExtractPixels (what the saved twin runs), bit for bit.</summary>
public class PlanarPixelsTests
{
    [Theory]
    [InlineData(MLPixelFormat.Bgra32, 3)]
    [InlineData(MLPixelFormat.Rgba32, 3)]
    [InlineData(MLPixelFormat.Bgra32, 1)]
    public void Should_give_ML_NETs_ExtractPixels_values_for_every_byte(MLPixelFormat format, int channels)
    {
        const int width = 256, height = 4; // every byte value in every channel, in different places per channel
        var bytes = new byte[width * height * 4];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int p = 4 * (y * width + x);
                (bytes[p], bytes[p + 1], bytes[p + 2], bytes[p + 3]) = ((byte)x, (byte)(255 - x), (byte)(x * 7 + y), (byte)(y == 3 ? 128 : 255));
            }
        }
        using var image = MLImage.CreateFromPixels(width, height, format, bytes);
        var ml = new MLContext(seed: 0);
        var view = new InMemoryImages([image], height, width);
        var extracted = ImagePipeline.ExtractPixels(ml.Transforms, "Image", "Pixels", channels).Fit(view).Transform(view);
        var expected = ResNetFeaturizerTests.Features(extracted, "Pixels")[0];

        var actual = new float[channels * width * height];
        PlanarPixels.Write(image, channels, height, width, actual);

        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < actual.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"value {i}: ML.NET {expected[i]:R}, ours {actual[i]:R}");
    }

    [Fact]
    public void Should_refuse_an_image_of_another_size()
    {
        using var image = MLImage.CreateFromPixels(2, 2, MLPixelFormat.Bgra32, new byte[16]);
        Assert.Throws<InvalidDataException>(() => PlanarPixels.Write(image, 3, 3, 3, new float[27]));
    }
}
