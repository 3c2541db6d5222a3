using ResNet.MLNet.Data;

namespace ResNet.MLNet.Tests.Data;

public class TestTimeViewsTests
{
    private static ImageTensor Ramp(int channels, int height, int width) =>
        new(channels, height, width, Enumerable.Range(0, channels * height * width).Select(i => (i % 97) / 96f).ToArray());

    [Fact]
    public void Crop_and_flip_move_pixels_where_they_belong()
    {
        var image = new ImageTensor(1, 2, 3, [1, 2, 3, 4, 5, 6]);
        Assert.Equal(new float[] { 5, 6 }, image.Crop(1, 1, 1, 2).ToArray());
        Assert.Equal(new float[] { 3, 2, 1, 6, 5, 4 }, image.FlipHorizontal().ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => image.Crop(1, 2, 1, 2));
    }

    [Fact]
    public void Ten_crops_when_the_resized_image_is_larger_than_the_crop()
    {
        var input = new ImageModelInput { ImageSize = 24, ResizeSize = 32, Mean = [0.5f, 0.5f, 0.5f], Std = [0.25f, 0.25f, 0.25f] };
        var image = Ramp(3, 40, 50);
        var views = ImagePreprocessing.TestTimeViews(image, input);
        Assert.Equal(10, views.Count);
        Assert.Equal(ImagePreprocessing.Apply(image, input).ToArray(), views[0].ToArray());
        for (int i = 0; i < 5; i++)
            Assert.Equal(views[i].FlipHorizontal().ToArray(), views[5 + i].ToArray());
        Assert.All(views, v => Assert.Equal((3, 24, 24), (v.Channels, v.Height, v.Width)));
        Assert.Equal(10, views.Select(v => string.Join(",", v.ToArray())).Distinct().Count()); // five places, each also mirrored
    }

    [Fact]
    public void Centre_and_mirror_only_when_there_is_no_room_to_crop()
    {
        var input = new ImageModelInput { ImageSize = 28, Channels = 1, Mean = [0.5f], Std = [0.25f] };
        var views = ImagePreprocessing.TestTimeViews(Ramp(3, 28, 28), input);
        Assert.Equal(2, views.Count);
        Assert.Equal(views[0].FlipHorizontal().ToArray(), views[1].ToArray());
    }
}
