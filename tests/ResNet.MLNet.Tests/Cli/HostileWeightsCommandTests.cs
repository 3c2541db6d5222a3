using System.IO.Compression;
using System.Text;
using ResNet.MLNet.Tests.TestSupport;
using ResNet.MLNet.Weights;
using TorchSharp;

namespace ResNet.MLNet.Tests.Cli;

/// <summary><c>inspect</c> and <c>convert</c> print and write in proportion to the file, and print names from files escaped.</summary>
public class HostileWeightsCommandTests
{
    [Fact]
    public void Inspect_output_stays_in_proportion_with_one_huge_name_and_escapes_control_characters()
    {
        using var dir = new TempDirectory();
        string path = dir.File("names.safetensors");
        var tensors = new List<NamedTensor> { new(new string('x', 10_000), torch.ScalarType.Byte, [1], new byte[1]) };
        tensors.Add(new NamedTensor("evil\u001b[2J\u001b]0;pwned\u0007.weight", torch.ScalarType.Byte, [1], new byte[1]));
        tensors.AddRange(Enumerable.Range(0, 1000).Select(i => new NamedTensor($"t{i}", torch.ScalarType.Byte, [1], new byte[1])));
        SafeTensors.Write(path, tensors);

        var (code, output, error) = CliRunner.Run("inspect", path);

        Assert.True(code == 0, error);
        Assert.True(output.Length < 150_000, $"printed {output.Length:N0} characters"); // padding every line to 10,000 printed 10 MB
        Assert.Contains("x... (9,840 more characters)", output);
        Assert.Contains("evil\\x1B[2J\\x1B]0;pwned\\x07.weight", output);
        Assert.DoesNotContain('\u001b', output);
        Assert.Contains("tensors: 1,002", output);
    }

    [Fact]
    public void Convert_refuses_views_of_one_storage_that_would_write_far_more_than_the_file()
    {
        using var dir = new TempDirectory();
        string path = dir.File("views.pth");
        WriteSharedStoragePth(path, keys: 2000, storageFloats: 262_144); // 1 MiB storage: 2 GB written one view at a time
        string output = dir.File("out.safetensors");

        var result = CliRunner.Run("convert", "--in", path, "--out", output);

        CliRunner.AssertFails(result, path);
        Assert.Contains("share storage", result.Error);
        Assert.False(File.Exists(output));
        Assert.Equal(2000, WeightsFile.Read(path).Tensors.Count); // reading it is fine: the views share the bytes
    }

    /// <summary>A torch.save zip whose <paramref name="keys"/> keys are all the same float tensor over one storage (memoized).</summary>
    private static void WriteSharedStoragePth(string path, int keys, int storageFloats)
    {
        static byte[] Str(string s) => [0x58, .. BitConverter.GetBytes(s.Length), .. Encoding.ASCII.GetBytes(s)];
        static byte[] Global(string m, string n) => [0x63, .. Encoding.ASCII.GetBytes($"{m}\n{n}\n")];
        static byte[] Int(int v) => [0x4A, .. BitConverter.GetBytes(v)];
        List<byte> pickle =
        [
            0x80, 2, .. Global("collections", "OrderedDict"), 0x29, 0x52,
            .. Str("k0"), .. Global("torch._utils", "_rebuild_tensor_v2"), 0x28,
            0x28, .. Str("storage"), .. Global("torch", "FloatStorage"), .. Str("0"), .. Str("cpu"), .. Int(storageFloats), 0x74, 0x51,
            0x4B, 0, .. Int(storageFloats), 0x85, 0x4B, 1, 0x85, 0x89, .. Global("collections", "OrderedDict"), 0x29, 0x52,
            0x74, 0x52, 0x71, 0, 0x73, // BINPUT 0, SETITEM
        ];
        for (int i = 1; i < keys; i++)
            pickle.AddRange([.. Str($"k{i}"), 0x68, 0, 0x73]); // BINGET 0, SETITEM
        pickle.Add(0x2E);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using (var entry = zip.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open())
            entry.Write([.. pickle]);
        using (var entry = zip.CreateEntry("archive/data/0", CompressionLevel.NoCompression).Open())
            entry.Write(new byte[storageFloats * 4]);
    }
}
