using ResNet.MLNet.Training;
using SkiaSharp;

namespace ResNet.MLNet.Tests.Training;

/// <summary>Small generated image folders for the streaming loader's tests.</summary>
internal static class StreamingTestSupport
{
    public static readonly string[] Quadrants = ["bottom-left", "bottom-right", "top-left", "top-right"];

    /// <summary>
    /// Writes <paramref name="perClass"/> images per class into class folders below <paramref name="root"/>: noise with one
    /// bright quadrant (the class), sizes varying between 20 and 40 pixels so that crops come from originals of
    /// different shapes; PNG and JPEG alternate.
    /// </summary>
    public static string WriteQuadrantFolder(string root, int perClass, int seed = 1)
    {
        var random = new Random(seed);
        for (int c = 0; c < Quadrants.Length; c++)
        {
            string folder = Directory.CreateDirectory(Path.Combine(root, Quadrants[c])).FullName;
            for (int i = 0; i < perClass; i++)
            {
                int width = random.Next(20, 41), height = random.Next(20, 41);
                using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
                bool bottom = c < 2, right = c % 2 == 1;
                for (int y = 0; y < height; y++)
                {
                    for (int x = 0; x < width; x++)
                    {
                        bool bright = (y >= height / 2) == bottom && (x >= width / 2) == right;
                        byte v = (byte)(bright ? random.Next(170, 256) : random.Next(0, 70));
                        bitmap.SetPixel(x, y, new SKColor(v, (byte)(v / 2 + 20), (byte)(255 - v)));
                    }
                }
                bool jpeg = i % 2 == 1;
                using var data = bitmap.Encode(jpeg ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png, 95);
                File.WriteAllBytes(Path.Combine(folder, $"{i:D3}.{(jpeg ? "jpg" : "png")}"), data.ToArray());
            }
        }
        return root;
    }

    /// <summary><see cref="TrainingTestSupport.FastOptions"/> for streamed files: batch 8, the given augmentation and workers.</summary>
    public static TrainingOptions Options(Augmentation augmentation, int workers, int epochs = 2)
    {
        var options = TrainingTestSupport.FastOptions(epochs);
        options.BatchSize = 8;
        options.Augmentation = augmentation;
        options.DecodeWorkers = workers;
        options.PrefetchBatches = 2;
        return options;
    }
}
