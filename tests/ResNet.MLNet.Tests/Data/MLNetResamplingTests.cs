using Microsoft.ML;
using Microsoft.ML.Data;
using ResNet.MLNet.Data;
using ResNet.MLNet.Tests.TestSupport;

namespace ResNet.MLNet.Tests.Data;

/// <summary>
/// The single preprocessing stack with ML.NET's resampling gives the pixels of ML.NET's own image transforms, which the
/// estimators and every saved plain-ML.NET model run: prediction from a weights file and the saved model agree.
/// </summary>
public class MLNetResamplingTests
{
    public static TheoryData<string, int, ImageResizeMode, int> Cases() => new()
    {
        { "wide.png", 16, ImageResizeMode.CenterCrop, 3 },
        { "tall.jpg", 16, ImageResizeMode.CenterCrop, 3 },
        { "wide.png", 80, ImageResizeMode.CenterCrop, 3 },
        { "square.jpg", 24, ImageResizeMode.CenterCrop, 3 },
        { "tall.jpg", 24, ImageResizeMode.Stretch, 3 },
        { "wide.png", 80, ImageResizeMode.Stretch, 3 },
        { "wide.png", 20, ImageResizeMode.CenterCrop, 1 },
        { "tall.jpg", 40, ImageResizeMode.Stretch, 1 },
        { "fashion.png", 32, ImageResizeMode.CenterCrop, 3 },
        { "fashion.png", 28, ImageResizeMode.CenterCrop, 3 }, // already at the size: ML.NET leaves it as it is
        { "square.jpg", 40, ImageResizeMode.Stretch, 1 },
        { "fashion.png", 20, ImageResizeMode.CenterCrop, 1 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Preprocessing_with_MLNet_resampling_equals_MLNets_image_transforms(string image, int size, ImageResizeMode mode, int channels)
    {
        using var folder = new TempDirectory();
        string path = WriteImage(folder.Path, image);
        var input = new ImageModelInput
        {
            Channels = channels,
            ImageSize = size,
            ResizeMode = mode,
            Interpolation = ImageInterpolation.MLNet,
            Mean = channels == 3 ? [0f, 0f, 0f] : [0f],
            Std = channels == 3 ? [1f, 1f, 1f] : [1f],
        };

        var ours = ImagePreprocessing.Load(path, input);                                  // resampled from the decoded bytes
        var fromTensor = ImagePreprocessing.Apply(ImageTensor.Load(path), input).ToArray(); // from an image in [0, 1]
        float[] mlnet = MLNetPixels(path, input);

        Assert.Equal((channels, size, size), (ours.Channels, ours.Height, ours.Width));
        Assert.Equal(fromTensor, ours.ToArray());
        AssertClose.Relative(mlnet, ours.ToArray(), 1e-6); // byte / 255 against byte * (1 / 255): one rounding apart at most
    }

    [Fact]
    public void Bilinear_and_MLNet_resampling_are_different_operations()
    {
        using var folder = new TempDirectory();
        string path = WriteImage(folder.Path, "wide.png");
        var bilinear = new ImageModelInput { ImageSize = 16, Mean = [0f, 0f, 0f], Std = [1f, 1f, 1f] };

        var torchvision = ImagePreprocessing.Load(path, bilinear).ToArray();
        var mlnet = ImagePreprocessing.Load(path, bilinear with { Interpolation = ImageInterpolation.MLNet }).ToArray();

        Assert.True(torchvision.Zip(mlnet).Max(p => Math.Abs(p.First - p.Second)) > 1f / 255, "the two resamplings should not give the same pixels");
    }

    private static float[] MLNetPixels(string path, ImageModelInput input)
    {
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromEnumerable([new PathRow { Path = path }]);
        var pipeline = ml.Transforms.LoadImages("Image", imageFolder: null, "Path")
            .Append(ImagePipeline.Resize(ml.Transforms, "Image", "Resized", input))
            .Append(ImagePipeline.ExtractPixels(ml.Transforms, "Resized", "Pixels", input.Channels));
        var scored = pipeline.Fit(data).Transform(data);
        return scored.GetColumn<float[]>("Pixels").Single();
    }

    /// <summary>Writes a smooth pattern with noise, in the shape the name says, as PNG or JPEG; "fashion.png" is a bundled sample.</summary>
    private static string WriteImage(string folder, string name)
    {
        if (name == "fashion.png")
            return Directory.GetFiles(Path.Combine(Repo.SampleData, "test", "coat")).Order(StringComparer.Ordinal).First();
        var (width, height) = name switch { "wide.png" => (53, 29), "tall.jpg" => (31, 58), _ => (40, 40) };
        var random = new Random(7);
        var pixels = new byte[width * height * 4];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int i = 4 * (y * width + x);
                pixels[i] = (byte)Math.Clamp(255 * x / width + random.Next(-30, 30), 0, 255);
                pixels[i + 1] = (byte)Math.Clamp(255 * y / height + random.Next(-30, 30), 0, 255);
                pixels[i + 2] = (byte)random.Next(256);
                pixels[i + 3] = 255;
            }
        }
        string path = Path.Combine(folder, name);
        using var image = MLImage.CreateFromPixels(width, height, MLPixelFormat.Bgra32, pixels);
        image.Save(path);
        return path;
    }

    private sealed class PathRow
    {
        public string Path { get; set; } = "";
    }
}
