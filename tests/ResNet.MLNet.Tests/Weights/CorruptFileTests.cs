using System.Diagnostics;
using ResNet.MLNet.Weights;
using Xunit.Abstractions;
using static ResNet.MLNet.Tests.Weights.WeightsFixtures;

namespace ResNet.MLNet.Tests.Weights;

/// <summary>Damaged files of every format fail with the documented exceptions only: never a hang, a crash or a huge allocation.</summary>
public class CorruptFileTests(ITestOutputHelper output)
{
    private static readonly string[] Fixtures =
    [
        "dtypes.pth", "dtypes_protocol4.pth", "dtypes_legacy.pth", "dtypes.safetensors", "views.pth", "views_legacy.pth",
        "tiny_wrapped_model.pth", "tiny.safetensors", "hostile_system.pth",
    ];

    public static TheoryData<string> Files => [.. Fixtures, TorchSharpFile];

    private const string TorchSharpFile = "tiny.dat (TorchSharp format)";

    [Theory]
    [MemberData(nameof(Files))]
    public void Should_refuse_the_file_cut_at_any_offset(string name)
    {
        byte[] file = Bytes(name);
        int step = Math.Max(1, file.Length / 500);
        int cuts = 0;
        for (int length = 0; length < file.Length; length += step, cuts++)
        {
            var outcome = ReadOutcome(file.AsMemory(0, length).ToArray());
            Assert.True(outcome is InvalidDataException or UnsafePickleException,
                $"{name} cut to {length} of {file.Length} bytes: {outcome?.GetType().Name ?? "read without error"}: {outcome}");
        }
        output.WriteLine($"{name}: {cuts} truncations refused");
    }

    [Fact]
    public void Should_name_the_file_when_the_zip_directory_disagrees_with_itself()
    {
        // Found by `bench soak`: ZipArchive reads the central directory lazily and reported this without the file's name.
        byte[] file = Bytes("dtypes.pth");
        int end = file.AsSpan().LastIndexOf([(byte)0x50, (byte)0x4B, (byte)0x05, (byte)0x06]); // End Of Central Directory
        Assert.True(end >= 0);
        file[end + 10] ^= 0x01; // total entries no longer matches the directory
        using var dir = new TestSupport.TempDirectory();
        string path = dir.File("damaged.pth");
        File.WriteAllBytes(path, file);

        var e = Assert.Throws<InvalidDataException>(() => WeightsFile.Read(path));

        Assert.StartsWith(path + ":", e.Message);
    }

    [Fact]
    public void Should_survive_random_corruption_of_real_files()
    {
        var random = new Random(20240607);
        var files = Fixtures.Append("cifar_resnet20.pth").Append(TorchSharpFile).Select(n => (Name: n, Bytes: Bytes(n))).ToArray();
        int refused = 0, read = 0;
        var slowest = TimeSpan.Zero;
        for (int i = 0; i < 300; i++)
        {
            var (name, original) = files[random.Next(files.Length)];
            byte[] file = Mutate(original, random, out string how);
            var watch = Stopwatch.StartNew();
            var outcome = ReadOutcome(file);
            slowest = watch.Elapsed > slowest ? watch.Elapsed : slowest;
            Assert.True(outcome is null or InvalidDataException or UnsafePickleException,
                $"mutation {i} of {name} ({how}) threw {outcome?.GetType().Name}: {outcome}");
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"mutation {i} of {name} ({how}) took {watch.Elapsed}");
            if (outcome is null) read++; else refused++;
        }
        output.WriteLine($"300 mutations: {refused} refused, {read} still readable; slowest read {slowest.TotalMilliseconds:F1} ms");
    }

    private static byte[] Mutate(byte[] original, Random random, out string how)
    {
        var file = original.ToList();
        switch (random.Next(4))
        {
            case 0:
                int flips = random.Next(1, 9);
                for (int k = 0; k < flips; k++)
                    file[random.Next(file.Count)] = (byte)random.Next(256);
                how = $"{flips} random bytes";
                break;
            case 1:
                int at = random.Next(file.Count);
                file[at] = (byte)(random.Next(2) == 0 ? 0xFF : 0x7F);
                how = $"byte {at} set to a large value";
                break;
            case 2:
                int start = random.Next(file.Count), count = Math.Min(random.Next(1, 64), file.Count - start);
                file.RemoveRange(start, count);
                how = $"{count} bytes removed at {start}";
                break;
            default:
                int where = random.Next(file.Count);
                file.InsertRange(where, Enumerable.Range(0, random.Next(1, 64)).Select(_ => (byte)random.Next(256)));
                how = $"random bytes inserted at {where}";
                break;
        }
        return [.. file];
    }

    /// <summary>Null when the bytes read, else the exception.</summary>
    private static Exception? ReadOutcome(byte[] file)
    {
        try
        {
            WeightsFile.Read(new MemoryStream(file), "corrupt");
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private static byte[] Bytes(string name)
    {
        if (name != TorchSharpFile)
            return File.ReadAllBytes(PathOf(name));
        using var stream = new MemoryStream();
        TorchSharpFormat.Write(stream, Read("tiny.pth").Tensors);
        return stream.ToArray();
    }
}
