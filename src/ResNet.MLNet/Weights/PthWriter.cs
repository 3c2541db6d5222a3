using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace ResNet.MLNet.Weights;

/// <summary>
/// Writes a state_dict as <c>torch.save</c> does (zip format, pickle protocol 2): an <c>OrderedDict</c> of tensors
/// rebuilt by <c>torch._utils._rebuild_tensor_v2</c> over one storage each, readable by
/// <c>torch.load(path, weights_only=True)</c> (PyTorch 1.6 and later) and by <see cref="TorchCheckpointReader"/>.
/// </summary>
internal static class PthWriter
{
    private const string Folder = "archive/";

    /// <summary>Writes the tensors, in order, as a <c>torch.save</c> zip file.</summary>
    /// <exception cref="ArgumentException">Two tensors share a name.</exception>
    public static void Write(string path, IReadOnlyList<NamedTensor> tensors) => WeightsFile.Create(path, stream => Write(stream, tensors));

    /// <summary>Writes the <c>torch.save</c> zip to a seekable stream.</summary>
    /// <exception cref="ArgumentException">Two tensors share a name.</exception>
    public static void Write(Stream stream, IReadOnlyList<NamedTensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(stream);
        WeightsFile.CheckUniqueNames(tensors);
        using var archive = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        void Add(string name, ReadOnlySpan<byte> data)
        {
            using var entry = archive.CreateEntry(Folder + name, CompressionLevel.NoCompression).Open();
            entry.Write(data);
        }
        Add("data.pkl", StateDictPickle(tensors));
        Add("byteorder", "little"u8);
        for (int i = 0; i < tensors.Count; i++)
            Add($"data/{i}", tensors[i].Data.Span);
        Add("version", "3\n"u8);
    }

    /// <summary>
    /// <c>OrderedDict([(name, _rebuild_tensor_v2(persistent_id(('storage', torch.XStorage, 'i', 'cpu', numel)), 0,
    /// shape, contiguous strides, False, OrderedDict()))...])</c>, storage <c>i</c> being the i-th tensor.
    /// </summary>
    private static byte[] StateDictPickle(IReadOnlyList<NamedTensor> tensors)
    {
        var p = new PickleWriter();
        p.Proto(2);
        p.Global("collections", "OrderedDict");
        p.EmptyTuple();
        p.Reduce();
        if (tensors.Count > 0)
        {
            p.Mark();
            for (int i = 0; i < tensors.Count; i++)
            {
                var t = tensors[i];
                var type = DTypes.Of(t.DType);
                p.String(t.Name);
                p.Global("torch._utils", "_rebuild_tensor_v2");
                p.Mark();
                p.Mark();
                p.String("storage");
                p.Global("torch", type.Storage);
                p.String(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                p.String("cpu");
                p.Int(t.ElementCount);
                p.Tuple();
                p.PersistentId();
                p.Int(0);
                p.IntTuple(t.Shape);
                p.IntTuple(ContiguousStrides(t.Shape));
                p.Bool(false);
                p.Global("collections", "OrderedDict");
                p.EmptyTuple();
                p.Reduce();
                p.Tuple();
                p.Reduce();
            }
            p.SetItems();
        }
        p.Stop();
        return p.ToArray();
    }

    private static long[] ContiguousStrides(IReadOnlyList<long> shape)
    {
        var strides = new long[shape.Count];
        long step = 1;
        for (int d = shape.Count - 1; d >= 0; d--)
        {
            strides[d] = step;
            step *= Math.Max(shape[d], 1);
        }
        return strides;
    }

    /// <summary>The few protocol-2 opcodes a state_dict needs.</summary>
    private sealed class PickleWriter
    {
        private readonly MemoryStream buffer = new();

        public void Proto(byte version) => Op(0x80, version);
        public void Mark() => Op(0x28);
        public void EmptyTuple() => Op(0x29);
        public void Tuple() => Op(0x74);
        public void Reduce() => Op(0x52);
        public void SetItems() => Op(0x75);
        public void PersistentId() => Op(0x51);
        public void Stop() => Op(0x2E);
        public void Bool(bool value) => Op(value ? (byte)0x88 : (byte)0x89);

        public void Global(string module, string name)
        {
            Op(0x63);
            buffer.Write(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
        }

        public void String(string value)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(value);
            Op(0x58);
            Span<byte> length = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)bytes.Length);
            buffer.Write(length);
            buffer.Write(bytes);
        }

        public void Int(long value)
        {
            if (value is >= 0 and <= byte.MaxValue)
            {
                Op(0x4B, (byte)value); // BININT1
            }
            else if (value is >= int.MinValue and <= int.MaxValue)
            {
                Op(0x4A); // BININT
                Span<byte> v = stackalloc byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(v, (int)value);
                buffer.Write(v);
            }
            else
            {
                Op(0x8A, 8); // LONG1, 8 bytes two's complement
                Span<byte> v = stackalloc byte[8];
                BinaryPrimitives.WriteInt64LittleEndian(v, value);
                buffer.Write(v);
            }
        }

        public void IntTuple(IReadOnlyList<long> values)
        {
            Mark();
            foreach (long v in values)
                Int(v);
            Tuple();
        }

        public byte[] ToArray() => buffer.ToArray();

        private void Op(byte code) => buffer.WriteByte(code);

        private void Op(byte code, byte argument)
        {
            buffer.WriteByte(code);
            buffer.WriteByte(argument);
        }
    }
}
