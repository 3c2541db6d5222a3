using System.IO.Compression;
using System.Text;
using ResNet.MLNet.Weights;
using TorchSharp;

namespace ResNet.MLNet.Tests.TestSupport;

/// <summary>
/// Weight files built byte by byte to attack a reader's memory, time or output: pickle bombs, colliding dict keys, views
/// of one storage, tensors declared far larger than their data, names made to flood a terminal.
/// </summary>
internal static class HostileWeights
{
    private static byte[] Str(string s) => [0x58, .. BitConverter.GetBytes(s.Length), .. Encoding.ASCII.GetBytes(s)]; // BINUNICODE
    private static byte[] Global(string module, string name) => [0x63, .. Encoding.ASCII.GetBytes($"{module}\n{name}\n")];
    private static byte[] Int(int v) => [0x4A, .. BitConverter.GetBytes(v)]; // BININT

    /// <summary>A 64 KiB string memoized once and re-encoded through <c>_codecs.encode</c> 20,000 times: 1.3 GB from 245 KB without a budget.</summary>
    public static byte[] MemoBombPickle()
    {
        List<byte> pickle = [0x80, 2, .. Global("_codecs", "encode"), 0x71, 0, 0x30]; // GLOBAL, BINPUT 0, POP
        pickle.AddRange([0x58, .. BitConverter.GetBytes(65536), .. Enumerable.Repeat((byte)'a', 65536), 0x71, 1, 0x30]);
        pickle.AddRange([0x8C, 6, .. "latin1"u8, 0x71, 2, 0x30]);
        pickle.Add(0x5D); // EMPTY_LIST
        for (int i = 0; i < 20_000; i++)
            pickle.AddRange([0x68, 0, 0x68, 1, 0x68, 2, 0x86, 0x52, 0x61]); // BINGET x3, TUPLE2, REDUCE, APPEND
        pickle.Add(0x2E);
        return [.. pickle];
    }

    /// <summary><paramref name="count"/> repetitions of an opcode sequence after a None (EMPTY_DICT+MEMOIZE, DUP, ...).</summary>
    public static byte[] OpcodeFloodPickle(byte[] unit, int count) => [0x80, 2, 0x4E, .. Enumerable.Range(0, count).SelectMany(_ => unit), 0x2E];

    /// <summary>(i &lt;&lt; 32) | i for i = 1..count: equal halves, so <c>long.GetHashCode()</c> is 0 for every key.</summary>
    public static IReadOnlyList<long> CollidingKeys(int count) => [.. Enumerable.Range(1, count).Select(i => ((long)i << 32) | (uint)i)];

    /// <summary>A dict pickle of <paramref name="count"/> colliding integer keys (quadratic to insert into a naive hash table).</summary>
    public static byte[] CollidingKeysPickle(int count)
    {
        List<byte> pickle = [0x80, 2, 0x7D, 0x28];
        foreach (long k in CollidingKeys(count))
            pickle.AddRange([0x8A, 8, .. BitConverter.GetBytes(k), 0x4E]); // LONG1, None
        pickle.AddRange([0x75, 0x2E]); // SETITEMS, STOP
        return [.. pickle];
    }

    /// <summary>A torch.save zip holding <paramref name="pickle"/> as its data.pkl, and optional storages.</summary>
    public static void WritePickleZip(string path, byte[] pickle, params (string Name, byte[] Bytes)[] storages)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using (var entry = zip.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open())
            entry.Write(pickle);
        foreach (var (name, bytes) in storages)
        {
            using var entry = zip.CreateEntry($"archive/data/{name}", CompressionLevel.NoCompression).Open();
            entry.Write(bytes);
        }
    }

    /// <summary>A torch.save zip whose <paramref name="keys"/> keys are all the same float tensor over one storage (memoized).</summary>
    public static void WriteSharedStoragePth(string path, int keys, int storageFloats)
    {
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
        WritePickleZip(path, [.. pickle], ("0", new byte[storageFloats * 4]));
    }

    /// <summary>A safetensors file (under 100 bytes) whose <c>fc.weight</c> claims <paramref name="rows"/> x <paramref name="columns"/> floats with no data.</summary>
    public static byte[] HugeDeclaredTensorSafetensors(long rows, long columns)
    {
        string header = $"{{\"fc.weight\":{{\"dtype\":\"F32\",\"shape\":[{rows},{columns}],\"data_offsets\":[0,0]}}}}";
        byte[] json = Encoding.ASCII.GetBytes(header);
        return [.. BitConverter.GetBytes((ulong)json.Length), .. json];
    }

    /// <summary>A safetensors file with one <paramref name="nameLength"/>-character name, a name full of terminal escapes, and <paramref name="others"/> more tensors.</summary>
    public static void WriteNameFlood(string path, int nameLength, int others)
    {
        var tensors = new List<NamedTensor> { new(new string('x', nameLength), torch.ScalarType.Byte, [1], new byte[1]) };
        tensors.Add(new NamedTensor("evil\u001b[2J\u001b]0;pwned\u0007.weight", torch.ScalarType.Byte, [1], new byte[1]));
        tensors.AddRange(Enumerable.Range(0, others).Select(i => new NamedTensor($"t{i}", torch.ScalarType.Byte, [1], new byte[1])));
        SafeTensors.Write(path, tensors);
    }
}
