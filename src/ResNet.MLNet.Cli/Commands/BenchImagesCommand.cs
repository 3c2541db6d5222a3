using System.CommandLine;
using System.Globalization;
using SkiaSharp;

namespace ResNet.MLNet.Cli.Commands;

/// <summary>
/// <c>resnet-mlnet bench images</c>: writes a synthetic image-classification folder for the data-loading benchmarks:
/// class folders of JPEG images with smooth random backgrounds (so they compress and decode like photographs, not like
/// noise) and a disc whose hue and place depend on the class. Deterministic for a seed.
/// </summary>
internal static class BenchImagesCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Folder to create (must not exist).", Required = true };
        var count = new Option<int>("--count") { Description = "Images in all.", DefaultValueFactory = _ => 20000 };
        var classes = new Option<int>("--classes") { Description = "Class folders.", DefaultValueFactory = _ => 10 };
        var size = new Option<int>("--size") { Description = "Width and height in pixels.", DefaultValueFactory = _ => 256 };
        var seed = new Option<int>("--seed") { Description = "Seed of the pictures.", DefaultValueFactory = _ => 1 };
        var command = new Command("images", "Write a synthetic folder of JPEG images in class folders, for the data-loading benchmarks.")
        {
            output, count, classes, size, seed,
        };
        command.SetAction(parse => CliOutput.Guard(parse, () =>
        {
            string root = Path.GetFullPath(parse.GetValue(output)!);
            int n = parse.GetValue(count), k = parse.GetValue(classes), side = parse.GetValue(size), baseSeed = parse.GetValue(seed);
            if (n < 1 || k < 1 || side < 16)
                return CliOutput.Fail(parse, $"--count and --classes must be at least 1 and --size at least 16; got {n}, {k} and {side}.");
            if (Directory.Exists(root) || File.Exists(root))
                return CliOutput.Fail(parse, $"'{root}' exists; name a new folder.");
            for (int c = 0; c < k; c++)
                Directory.CreateDirectory(Path.Combine(root, ClassName(c)));
            var watch = System.Diagnostics.Stopwatch.StartNew();
            Parallel.For(0, n, i => Write(Path.Combine(root, ClassName(i % k), string.Create(CultureInfo.InvariantCulture, $"{i:D6}.jpg")), i % k, k, side, baseSeed * 1_000_003 + i));
            long bytes = Directory.EnumerateFiles(root, "*.jpg", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            parse.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Wrote {n} JPEG images of {side}x{side} in {k} classes to {root} ({bytes / 1048576.0:F0} MB) in {watch.Elapsed.TotalSeconds:F0} s."));
            return 0;
        }));
        return command;
    }

    private static string ClassName(int c) => string.Create(CultureInfo.InvariantCulture, $"class{c:D2}");

    private static void Write(string path, int label, int classes, int side, int seed)
    {
        var random = new Random(seed);
        const int grid = 6;
        var corners = new float[grid + 1, grid + 1, 3];
        for (int y = 0; y <= grid; y++)
            for (int x = 0; x <= grid; x++)
                for (int ch = 0; ch < 3; ch++)
                    corners[y, x, ch] = random.Next(40, 216);
        using var bitmap = new SKBitmap(side, side, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var pixels = new byte[side * side * 4];
        float cell = (float)side / grid;
        for (int y = 0; y < side; y++)
        {
            float gy = y / cell;
            int y0 = Math.Min((int)gy, grid - 1);
            float fy = gy - y0;
            for (int x = 0; x < side; x++)
            {
                float gx = x / cell;
                int x0 = Math.Min((int)gx, grid - 1);
                float fx = gx - x0;
                int o = (y * side + x) * 4;
                for (int ch = 0; ch < 3; ch++)
                {
                    float top = corners[y0, x0, ch] * (1 - fx) + corners[y0, x0 + 1, ch] * fx;
                    float bottom = corners[y0 + 1, x0, ch] * (1 - fx) + corners[y0 + 1, x0 + 1, ch] * fx;
                    pixels[o + ch] = (byte)Math.Clamp(top * (1 - fy) + bottom * fy + random.Next(-6, 7), 0, 255);
                }
                pixels[o + 3] = 255;
            }
        }
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        using (var canvas = new SKCanvas(bitmap))
        {
            float angle = 2 * MathF.PI * label / classes;
            float radius = side * (0.12f + 0.06f * (float)random.NextDouble());
            float cx = side * (0.5f + 0.25f * MathF.Cos(angle)) + random.Next(-side / 16, side / 16 + 1);
            float cy = side * (0.5f + 0.25f * MathF.Sin(angle)) + random.Next(-side / 16, side / 16 + 1);
            using var paint = new SKPaint { Color = SKColor.FromHsv(360f * label / classes, 80, 90), IsAntialias = true };
            canvas.DrawCircle(cx, cy, radius, paint);
        }
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        File.WriteAllBytes(path, data.ToArray());
    }
}
