using System.Diagnostics;
using ResNet.MLNet.Onnx;
using ResNet.MLNet.Tests.TestSupport;
using ResNet.MLNet.Weights;
using Xunit.Abstractions;

namespace ResNet.MLNet.Tests.Onnx;

/// <summary>
/// The ONNX reader on hostile bytes: truncations, corruptions and lengths or dims that promise more than the file holds
/// fail with <see cref="InvalidDataException"/> naming the file and the offset: no other exception, no hang, no huge
/// allocation.
/// </summary>
public class OnnxModelReaderTests(ITestOutputHelper output)
{
    private static readonly string Fixture = Fixtures.Path("onnx", "folded_basic.onnx");

    [Fact]
    public void Should_read_the_nodes_initializers_and_opset_of_a_torch_export()
    {
        var model = OnnxModelReader.Read(Fixture);

        Assert.Equal("pytorch", model.ProducerName);
        Assert.Equal(13, model.OpsetVersion);
        Assert.Equal(["input"], model.Inputs.Select(i => i.Name));
        Assert.Equal([2L, 3, 64, 64], model.Inputs[0].Dims!.Select(d => d!.Value));
        Assert.Equal(["logits"], model.Outputs.Select(o => o.Name));
        var stem = model.Nodes[0];
        Assert.Equal("Conv", stem.OpType);
        Assert.Equal([7L, 7], stem.Ints("kernel_shape"));
        Assert.Equal([2L, 2], stem.Ints("strides"));
        Assert.Equal([3L, 3, 3, 3], stem.Ints("pads"));
        var weight = model.Initializers[stem.Inputs[1]];
        Assert.Equal([8L, 3, 7, 7], weight.Dims);
        Assert.Equal(8 * 3 * 7 * 7, weight.ToFloats().Length);
        Assert.Equal(14, model.Nodes.Count(n => n.OpType == "Conv"));
    }

    [Fact]
    public void Should_refuse_a_length_past_the_end_naming_the_offset()
    {
        byte[] bytes = [0x08, 0x08, 0x3A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]; // ir_version 8, then a graph of ~4 GiB

        var e = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(bytes, "big.onnx"));

        Assert.Equal("big.onnx: declared length 4294967295 exceeds the 0 bytes that remain (at byte 8).", e.Message);
    }

    [Fact]
    public void Should_refuse_a_varint_longer_than_64_bits()
    {
        byte[] bytes = [0x08, .. Enumerable.Repeat((byte)0xFF, 10), 0x01];

        var e = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(bytes, "varint.onnx"));

        Assert.Equal("varint.onnx: varint longer than 64 bits (at byte 1).", e.Message);
    }

    [Fact]
    public void Should_refuse_dims_the_data_cannot_fill_before_allocating()
    {
        // An initializer of 10^6 x 10^6 floats holding 4 bytes.
        var model = WriteModel(graph => graph.Message(5, tensor =>
        {
            tensor.Int64s(1, [1_000_000, 1_000_000]);
            tensor.Int64(2, 1);
            tensor.String(8, "w");
            tensor.Bytes(9, new byte[4]);
        }));
        var initializer = OnnxModelReader.Read(model, "dims.onnx").Initializers["w"];

        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(initializer.ToFloats);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.StartsWith("dims.onnx: initializer 'w' of dims [1000000, 1000000] holds 4 bytes; expected 1000000000000 values of 4 bytes (at byte ", e.Message);
        Assert.True(allocated < 1 << 20, $"{allocated} bytes allocated");
    }

    [Fact]
    public void Should_convert_float16_and_double_initializers_and_refuse_other_types()
    {
        var model = WriteModel(graph =>
        {
            graph.Message(5, t => { t.Int64s(1, [2]); t.Int64(2, 10); t.String(8, "half"); t.Int64s(5, [0x3C00, 0xC000]); });
            graph.Message(5, t => { t.Int64s(1, [1]); t.Int64(2, 11); t.String(8, "double"); t.Bytes(9, BitConverter.GetBytes(0.25)); });
            graph.Message(5, t => { t.Int64s(1, [1]); t.Int64(2, 7); t.String(8, "int64"); t.Bytes(9, new byte[8]); });
        });
        var initializers = OnnxModelReader.Read(model, "types.onnx").Initializers;

        Assert.Equal([1f, -2f], initializers["half"].ToFloats());
        Assert.Equal([0.25f], initializers["double"].ToFloats());
        var e = Assert.Throws<InvalidDataException>(initializers["int64"].ToFloats);
        Assert.Contains("initializer 'int64' has data type 7", e.Message);
    }

    [Fact]
    public void Should_refuse_the_file_cut_at_any_offset_naming_it()
    {
        byte[] file = File.ReadAllBytes(Fixture);
        int step = Math.Max(1, file.Length / 300), cuts = 0;
        using var dir = new TempDirectory();
        string path = dir.File("cut.onnx");
        for (int length = 0; length < file.Length; length += step, cuts++)
        {
            File.WriteAllBytes(path, file[..length]);
            var outcome = Outcome(() => WeightsFile.Read(path));
            Assert.True(outcome is InvalidDataException && outcome.Message.Contains(path, StringComparison.Ordinal),
                $"cut to {length} of {file.Length} bytes: {outcome?.GetType().Name ?? "read without error"}: {outcome?.Message}");
        }
        output.WriteLine($"{cuts} truncations refused");
    }

    [Fact]
    public void Should_survive_random_corruption()
    {
        byte[] original = File.ReadAllBytes(Fixture);
        // Nodes come first in a torch export; most mutations go there, where the structure is, not into the weights.
        int structure = OnnxModelReader.Read(original, "fixture").Initializers.Values.Min(i => (int)i.Offset);
        var random = new Random(20261203);
        int refused = 0, read = 0;
        var slowest = TimeSpan.Zero;
        for (int i = 0; i < 300; i++)
        {
            byte[] file = (byte[])original.Clone();
            int flips = random.Next(1, 5);
            for (int k = 0; k < flips; k++)
                file[random.Next(random.Next(4) == 0 ? file.Length : structure)] = (byte)random.Next(256);
            var watch = Stopwatch.StartNew();
            var outcome = Outcome(() => OnnxWeightsImporter.Read(file, "corrupt.onnx"));
            slowest = watch.Elapsed > slowest ? watch.Elapsed : slowest;
            Assert.True(outcome is null || outcome is InvalidDataException && outcome.Message.StartsWith("corrupt.onnx: ", StringComparison.Ordinal),
                $"mutation {i} ({flips} bytes) threw {outcome?.GetType().Name}: {outcome}");
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"mutation {i} took {watch.Elapsed}");
            if (outcome is null) read++; else refused++;
        }
        output.WriteLine($"300 mutations: {refused} refused, {read} still imported; slowest {slowest.TotalMilliseconds:F1} ms");
        Assert.True(refused > 100, $"only {refused} of 300 mutations were refused: the mutations missed the structure");
    }

    /// <summary>A ModelProto (IR 8, opset 17) around the graph <paramref name="graph"/> writes.</summary>
    private static byte[] WriteModel(Action<ProtoWriter> graph)
    {
        using var stream = new MemoryStream();
        var w = new ProtoWriter(stream);
        w.Int64(1, 8);
        w.Message(7, graph);
        w.Message(8, opset => opset.Int64(2, 17));
        return stream.ToArray();
    }

    private static Exception? Outcome(Action read)
    {
        try
        {
            read();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
