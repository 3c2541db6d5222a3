using System.Diagnostics;
using ResNet.MLNet.Data;
using ResNet.MLNet.Tests.TestSupport;

namespace ResNet.MLNet.Tests.Data;

/// <summary>Image headers are read and checked before anything is decoded: bombs, truncations and non-files fail fast, naming the file.</summary>
public class ImageHeaderTests
{
    public static TheoryData<string, byte[]> Bombs() => new()
    {
        { "bomb.gif", HostileImages.Gif(65535, 65535) },
        { "frame-bomb.gif", HostileImages.Gif(1, 1, frameWidth: 60000, frameHeight: 60000) },
        { "bomb.png", HostileImages.Png(30000, 30000) },
        { "bomb.jpg", HostileImages.Jpeg(65000, 65000) },
        { "bomb.bmp", HostileImages.Bmp(20000, -20000) },
        { "bomb.webp", HostileImages.WebP(16384, 16384) },
    };

    [Theory]
    [MemberData(nameof(Bombs))]
    public void Should_refuse_a_decompression_bomb_from_its_header_without_decoding(string name, byte[] bytes)
    {
        using var dir = new TempDirectory();
        string path = dir.File(name);
        File.WriteAllBytes(path, bytes);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => ImageTensor.Load(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains(path, e.Message);
        Assert.Contains("decompression bomb", e.Message);
        Assert.Contains("--max-image-pixels", e.Message);
        Assert.True(allocated < 1_000_000, $"allocated {allocated} bytes"); // the header only: no pixel buffer
    }

    [Fact]
    public void Should_read_the_size_a_header_declares_in_every_format()
    {
        using var dir = new TempDirectory();
        var cases = new (string Name, byte[] Bytes, string Format, long Width, long Height)[]
        {
            ("a.gif", HostileImages.Gif(40, 30, 50, 10), "GIF", 50, 30),
            ("a.png", HostileImages.Png(640, 480), "PNG", 640, 480),
            ("a.jpg", HostileImages.Jpeg(641, 479), "JPEG", 641, 479),
            ("a.bmp", HostileImages.Bmp(33, -17), "BMP", 33, 17),
            ("a.webp", HostileImages.WebP(300, 200), "WebP", 300, 200),
        };
        foreach (var c in cases)
        {
            File.WriteAllBytes(dir.File(c.Name), c.Bytes);
            Assert.Equal(new ImageDimensions(c.Format, c.Width, c.Height), ImageHeader.Read(dir.File(c.Name)));
        }
        Assert.Equal(new ImageDimensions("PNG", 30, 20), ImageHeader.Read(PredictFixtures.PathOf("gray.png"))); // a real file
    }

    [Fact]
    public void Should_apply_the_limit_it_is_given()
    {
        string gray = PredictFixtures.PathOf("gray.png"); // 30 x 20
        Assert.Equal(3, ImageTensor.Load(gray, new ImageLimits { MaxPixels = 600 }).Channels);
        var e = Assert.Throws<InvalidDataException>(() => ImageTensor.Load(gray, new ImageLimits { MaxPixels = 599 }));
        Assert.Contains("30 x 20 = 600 pixels, more than the limit of 599", e.Message);
        Assert.Throws<ArgumentException>(() => ImagePreprocessing.Load(gray, new ImageModelInput(), new ImageLimits { MaxPixels = 0 }));
    }

    [Fact]
    public void Should_refuse_truncated_png_and_jpeg_as_pillow_does()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("cut.png"), HostileImages.Png(10, 10, truncated: true));
        File.WriteAllBytes(dir.File("cut.jpg"), HostileImages.Jpeg(10, 10, truncated: true));
        byte[] real = File.ReadAllBytes(PredictFixtures.PathOf("pattern.png"));
        File.WriteAllBytes(dir.File("half.png"), real[..(real.Length / 2)]);

        foreach (string name in new[] { "cut.png", "cut.jpg", "half.png" })
        {
            var e = Assert.Throws<InvalidDataException>(() => ImageTensor.Load(dir.File(name)));
            Assert.Contains(dir.File(name), e.Message);
            Assert.Contains("truncated", e.Message);
        }
        // Data appended after the end-of-image marker (as in motion photos) is not truncation.
        File.WriteAllBytes(dir.File("appended.jpg"), [.. HostileImages.Jpeg(10, 10), .. new byte[10_000]]);
        Assert.Equal(10, ImageHeader.Read(dir.File("appended.jpg")).Width);
    }

    [Fact]
    public async Task Should_refuse_devices_fifos_empty_files_and_unknown_formats_without_opening_them()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("empty.png"), []);
        File.WriteAllText(dir.File("text.png"), "not an image");
        Assert.Contains("empty or not a regular file", Assert.Throws<InvalidDataException>(() => ImageHeader.Read(dir.File("empty.png"))).Message);
        Assert.Contains("expected PNG, JPEG, GIF, BMP or WebP", Assert.Throws<InvalidDataException>(() => ImageHeader.Read(dir.File("text.png"))).Message);
        Assert.Contains("'/dev/zero' is not an image: it is empty or not a regular file", Assert.Throws<InvalidDataException>(() => ImageTensor.Load("/dev/zero")).Message);
        Assert.Throws<FileNotFoundException>(() => ImageTensor.Load(dir.File("missing.png")));

        string fifo = dir.File("fifo.png");
        using (var mkfifo = Process.Start("mkfifo", [fifo]))
            mkfifo.WaitForExit();
        // Opening a FIFO for reading blocks until a writer comes: the check must not open it. The wait only keeps a
        // regression from hanging the suite.
        var load = Task.Run(() => ImageTensor.Load(fifo));
        Assert.Same(load, await Task.WhenAny(load, Task.Delay(TimeSpan.FromSeconds(60))));
        Assert.Contains(fifo, (await Assert.ThrowsAsync<InvalidDataException>(() => load)).Message);
    }

    [Fact]
    public void Should_report_every_bad_file_of_a_folder_at_once()
    {
        using var dir = new TempDirectory();
        var paths = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            paths.Add(dir.File($"bomb{i}.gif"));
            File.WriteAllBytes(paths[^1], HostileImages.Gif(65535, 65535));
        }
        paths.Add(PredictFixtures.PathOf("gray.png"));

        var e = Assert.Throws<InvalidDataException>(() => ImageHeader.CheckAll(paths));

        Assert.StartsWith("3 of 4 images cannot be read", e.Message);
        Assert.All(paths.Take(3), p => Assert.Contains(p, e.Message));
    }
}
