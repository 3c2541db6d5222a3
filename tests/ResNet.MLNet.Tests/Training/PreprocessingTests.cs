using ResNet.MLNet.Training;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Training;

public class PreprocessingTests
{
    [Fact]
    public void Should_resize_repeat_grayscale_and_normalize_for_evaluation()
    {
        using var preprocessor = new BatchPreprocessor(new ImageModelInput { ImageSize = 8, Mean = [0.5f, 0.5f, 0.5f], Std = [0.5f, 0.25f, 0.5f] }, 1, 3, CPU);
        using var images = full(2, 1, 4, 4, 255, ScalarType.Byte);

        using var x = preprocessor.Evaluation(images);

        Assert.Equal([2L, 3, 8, 8], x.shape);
        Assert.True(x[TensorIndex.Colon, 0].eq(1).all().item<bool>());
        Assert.True(x[TensorIndex.Colon, 1].eq(2).all().item<bool>());
    }

    [Fact]
    public void Should_reduce_colour_to_luminance_for_a_grayscale_model()
    {
        // Three RGB values for a one-channel model: the mean and std become their luminance-weighted sums too.
        using var preprocessor = new BatchPreprocessor(new ImageModelInput { ImageSize = 2, Mean = [0, 0, 0], Std = [1, 1, 1] }, 3, 1, CPU);
        using var images = tensor(new byte[] { 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0 }, [1, 3, 2, 2]);

        using var x = preprocessor.Evaluation(images);

        Assert.Equal([1L, 1, 2, 2], x.shape);
        Assert.Equal(0.2989f / (0.2989f + 0.587f + 0.114f), x[0, 0, 0, 0].item<float>(), tolerance: 1e-5);
    }

    [Fact]
    public void Should_augment_reproducibly_and_within_range()
    {
        using var preprocessor = new BatchPreprocessor(new ImageModelInput { Channels = 1, ImageSize = 12, Mean = [0], Std = [1] }, 1, 1, CPU);
        using var images = arange(4 * 20 * 20, dtype: ScalarType.Int64).remainder(256).to_type(ScalarType.Byte).reshape(4, 1, 20, 20);
        var augmentation = new Augmentation { MinScale = 0.3f, ColorJitter = 0.4f };

        using var a = preprocessor.Training(images, augmentation, RandomSource.For(5, epoch: 0, stream: 1));
        using var b = preprocessor.Training(images, augmentation, RandomSource.For(5, epoch: 0, stream: 1));
        using var c = preprocessor.Training(images, augmentation, RandomSource.For(5, epoch: 1, stream: 1));
        using var plain = preprocessor.Evaluation(images);

        Assert.Equal([4L, 1, 12, 12], a.shape);
        Assert.True(a.eq(b).all().item<bool>());
        Assert.False(a.eq(c).all().item<bool>());
        Assert.False(a.eq(plain).all().item<bool>());
        Assert.True(a.min().item<float>() >= 0 && a.max().item<float>() <= 1);
    }

    [Fact]
    public void Should_draw_crops_inside_the_image_with_the_requested_area()
    {
        var random = new RandomSource(3);
        for (int i = 0; i < 200; i++)
        {
            var (top, left, height, width) = BatchPreprocessor.CropBox(28, 40, 0.35, random);
            Assert.True(top >= 0 && left >= 0 && top + height <= 28 && left + width <= 40);
            double area = (double)height * width / (28 * 40);
            Assert.True(area is > 0.3 and <= 1.0, $"area fraction {area}");
        }
    }
}
