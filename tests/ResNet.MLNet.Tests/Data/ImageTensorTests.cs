using System.Text.Json;
using ResNet.MLNet.Data;
using ResNet.MLNet.Tests.TestSupport;
using Xunit.Abstractions;

namespace ResNet.MLNet.Tests.Data;

public class ImageTensorTests(ITestOutputHelper output)
{
    public static TheoryData<int> PreprocessCases() => [.. Enumerable.Range(0, PredictFixtures.Json("preprocess.json").GetArrayLength())];

    [Theory]
    [MemberData(nameof(PreprocessCases))]
    public void Should_preprocess_exactly_as_torchvision_on_a_tensor(int index)
    {
        var expected = PredictFixtures.Json("preprocess.json")[index];
        var input = new ImageModelInput
        {
            ResizeSize = expected.GetProperty("resize").GetInt32(),
            ImageSize = expected.GetProperty("crop").GetInt32(),
            Mean = Floats(expected.GetProperty("mean")),
            Std = Floats(expected.GetProperty("std")),
        };

        var actual = ImagePreprocessing.Load(PredictFixtures.PathOf(expected.GetProperty("image").GetString()!), input);

        Assert.Equal(expected.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()), [actual.Channels, actual.Height, actual.Width]);
        double worst = AssertClose.Relative(Floats(expected.GetProperty("values")), actual.ToArray(), 1e-5);
        output.WriteLine($"{expected.GetProperty("image")} resize {input.ResizeSize} crop {input.ImageSize}: max relative difference {worst:G3}");
    }

    [Fact]
    public void Should_give_a_grayscale_image_three_equal_channels_in_the_unit_range()
    {
        var image = ImageTensor.Load(PredictFixtures.PathOf("gray.png"));

        Assert.Equal((3, 20, 30), (image.Channels, image.Height, image.Width));
        var plane = 20 * 30;
        Assert.True(image.Data[..plane].SequenceEqual(image.Data[plane..(2 * plane)]));
        Assert.True(image.Data[..plane].SequenceEqual(image.Data[(2 * plane)..]));
        Assert.Equal(7 / 255f, image.Data[1]); // gray.png holds (7x + 11y) mod 256
        Assert.Equal(11 / 255f, image.Data[30]);
    }

    [Theory]
    [InlineData(300, 200, 256, 256, 384)]
    [InlineData(200, 300, 256, 384, 256)]
    [InlineData(333, 500, 224, 336, 224)] // floor(224 * 500 / 333) = 336
    [InlineData(30, 30, 16, 16, 16)]
    public void Should_scale_the_shorter_side_and_floor_the_longer(int width, int height, int size, int expectedHeight, int expectedWidth)
    {
        var image = new ImageTensor(1, height, width, new float[height * width]).ResizeShorterSide(size);
        Assert.Equal((expectedHeight, expectedWidth), (image.Height, image.Width));
    }

    [Theory]
    [InlineData(5, 2, 2)] // round(1.5) = 2
    [InlineData(7, 2, 2)] // round(2.5) = 2: ties to even, like Python's round
    [InlineData(6, 2, 2)]
    [InlineData(2, 4, -1)] // larger than the image: padded by 1 each side
    [InlineData(2, 5, -1)] // padded by 1 before, 2 after
    public void Should_crop_at_torchvisions_offsets(int size, int crop, int offset)
    {
        var row = Enumerable.Range(1, size).Select(v => (float)v).ToArray();
        var cropped = new ImageTensor(1, 1, size, row).CenterCrop(1, crop);
        var expected = Enumerable.Range(offset, crop).Select(i => i >= 0 && i < size ? row[i] : 0f);
        Assert.Equal(expected, cropped.ToArray());
    }

    [Fact]
    public void Should_copy_an_axis_whose_size_does_not_change()
    {
        var values = Enumerable.Range(0, 12).Select(v => (float)v).ToArray();
        var image = new ImageTensor(1, 3, 4, values);
        var same = image.Resize(3, 4);
        Assert.NotSame(image, same);
        Assert.Equal(values, same.ToArray());
        var wider = image.Resize(3, 8); // only the width is resampled: rows stay rows
        Assert.Equal(Enumerable.Range(0, 3).Select(y => values[4 * y]), Enumerable.Range(0, 3).Select(y => wider.Data[8 * y]));
    }

    [Fact]
    public void Should_name_a_missing_image()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"no-such-image-{Guid.NewGuid():N}.png");
        var e = Assert.Throws<FileNotFoundException>(() => ImageTensor.Load(missing));
        Assert.Contains(missing, e.Message);
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R' })] // truncated PNG
    [InlineData(new byte[] { (byte)'n', (byte)'o', (byte)'t', (byte)' ', (byte)'a', (byte)'n', (byte)' ', (byte)'i', (byte)'m', (byte)'a', (byte)'g', (byte)'e' })]
    public void Should_name_a_file_that_is_not_an_image(byte[] content)
    {
        string file = Path.Combine(Path.GetTempPath(), $"corrupt-{Guid.NewGuid():N}.png");
        File.WriteAllBytes(file, content);
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => ImageTensor.Load(file));
            Assert.Contains(file, e.Message);
            Assert.Contains("not an image", e.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Should_reject_normalization_that_does_not_fit_the_channels()
    {
        var image = new ImageTensor(3, 1, 1, [0.1f, 0.2f, 0.3f]);
        Assert.Throws<ArgumentException>(() => image.Normalize([0.5f], [0.5f]));
        Assert.Throws<ArgumentException>(() => image.Normalize([0, 0, 0], [1, 0, 1]));
        Assert.Throws<ArgumentException>(() => new ImageModelInput { ImageSize = 0 }.Validate());
        Assert.Throws<ArgumentException>(() => new ImageTensor(3, 2, 2, new float[11]));
    }

    private static float[] Floats(JsonElement array) => array.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    [Fact]
    public void Colour_jitter_follows_torchvisions_blends()
    {
        var random = new Random(3);
        var image = new ImageTensor(3, 5, 7, Enumerable.Range(0, 105).Select(_ => (float)random.NextDouble()).ToArray());
        Assert.Equal(image.Data.ToArray(), image.AdjustColors(1, 1, 1).Data.ToArray()); // factor 1 changes nothing

        var bright = image.AdjustColors(2, 1, 1).Data.ToArray();
        for (int i = 0; i < bright.Length; i++)
            Assert.Equal(Math.Min(1f, 2 * image.Data[i]), bright[i], tolerance: 1e-6);

        // Contrast 0 leaves the mean grey level everywhere; saturation 0 leaves each pixel's grey level in every channel.
        var flat = image.AdjustColors(1, 0, 1).Data.ToArray();
        float meanGray = image.ToGrayscale().Data.ToArray().Average();
        Assert.All(flat, v => Assert.Equal(meanGray, v, tolerance: 1e-5));
        var gray = image.AdjustColors(1, 1, 0).Data.ToArray();
        var expected = image.ToGrayscale().Data.ToArray();
        for (int i = 0; i < 35; i++)
        {
            Assert.Equal(expected[i], gray[i], tolerance: 1e-6);
            Assert.Equal(expected[i], gray[35 + i], tolerance: 1e-6);
            Assert.Equal(expected[i], gray[70 + i], tolerance: 1e-6);
        }
    }
}
