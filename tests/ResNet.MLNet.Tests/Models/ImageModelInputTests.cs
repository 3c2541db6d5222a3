namespace ResNet.MLNet.Tests.Models;

public class ImageModelInputTests
{
    [Fact]
    public void Another_image_size_keeps_the_resize_to_crop_ratio()
    {
        var at64 = ImageModelInput.ImageNet.WithImageSize(64);
        Assert.Equal(64, at64.ImageSize);
        Assert.Equal(73, at64.ResizeSize); // round(64 * 256 / 224)
        Assert.Same(ImageModelInput.ImageNet, ImageModelInput.ImageNet.WithImageSize(null));
        Assert.Null(new ImageModelInput().WithImageSize(32).ResizeSize);
    }

    [Fact]
    public void A_grayscale_network_gets_the_luminance_weighted_statistics()
    {
        var gray = ImageModelInput.ImageNet.WithChannels(1);
        Assert.Equal(1, gray.Channels);
        Assert.Equal(0.2989 * 0.485 + 0.587 * 0.456 + 0.114 * 0.406, gray.Mean[0], 1e-6);
        Assert.Equal(0.2989 * 0.229 + 0.587 * 0.224 + 0.114 * 0.225, gray.Std[0], 1e-6);
        var back = new ImageModelInput { Channels = 1, Mean = [0.3f], Std = [0.4f] }.WithChannels(3);
        Assert.Equal([0.3f, 0.3f, 0.3f], back.Mean);
        Assert.Throws<ArgumentException>(() => new ImageModelInput { Mean = [0.1f, 0.2f], Std = [1, 1] }.WithChannels(3));
    }

    [Fact]
    public void Metadata_round_trips_every_field()
    {
        var input = ImageModelInput.ImageNet with
        {
            ResizeSize = 232, ResizeMode = ImageResizeMode.Stretch, Interpolation = ImageInterpolation.MLNet,
            ClassNames = ["a, with comma", "b \"quoted\"", "ç"],
        };
        var back = ImageModelInput.FromMetadata(input.ToMetadata());
        Assert.NotNull(back);
        Assert.Equal((input.Channels, input.ImageSize, input.ResizeSize, input.ResizeMode, input.Interpolation),
            (back.Channels, back.ImageSize, back.ResizeSize, back.ResizeMode, back.Interpolation));
        Assert.Equal(input.Mean, back.Mean);
        Assert.Equal(input.Std, back.Std);
        Assert.Equal(input.ClassNames, back.ClassNames);
    }

    [Fact]
    public void Old_or_broken_metadata_reads_as_far_as_it_goes()
    {
        // Files written before the description existed: mean, std and input size only.
        var old = ImageModelInput.FromMetadata(new Dictionary<string, string> { ["mean"] = "0.5", ["std"] = "0.25", ["input_size"] = "1,28,28" });
        Assert.Equal((1, 28, 0.5f, 0.25f), (old!.Channels, old.ImageSize, old.Mean[0], old.Std[0]));
        Assert.Null(old.ClassNames);
        Assert.Null(ImageModelInput.FromMetadata(new Dictionary<string, string>()));
        Assert.Null(ImageModelInput.FromMetadata(new Dictionary<string, string> { ["input_size"] = "3,224,224", ["std"] = "0,0,0" }));
        var badClasses = ImageModelInput.FromMetadata(new Dictionary<string, string> { ["input_size"] = "3,32,32", ["class_names"] = "[not json" });
        Assert.Null(badClasses!.ClassNames);
    }

    [Theory]
    [InlineData(nameof(ImageModelInput.Channels))]
    [InlineData(nameof(ImageModelInput.ImageSize))]
    [InlineData(nameof(ImageModelInput.ResizeSize))]
    [InlineData(nameof(ImageModelInput.Mean))]
    [InlineData(nameof(ImageModelInput.Std))]
    public void Validate_names_the_property_at_fault(string property)
    {
        var input = property switch
        {
            nameof(ImageModelInput.Channels) => new ImageModelInput { Channels = 2 },
            nameof(ImageModelInput.ImageSize) => new ImageModelInput { ImageSize = 0 },
            nameof(ImageModelInput.ResizeSize) => new ImageModelInput { ResizeSize = 0 },
            nameof(ImageModelInput.Mean) => new ImageModelInput { Mean = [float.NaN, 0, 0] },
            _ => new ImageModelInput { Std = [1, -1, 1] },
        };
        var e = Assert.Throws<ArgumentException>(input.Validate);
        Assert.Equal(property, e.ParamName);
        Assert.Contains(property, e.Message);
    }
}
