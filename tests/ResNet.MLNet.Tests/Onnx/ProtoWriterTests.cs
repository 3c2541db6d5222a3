using ResNet.MLNet.Onnx;

namespace ResNet.MLNet.Tests.Onnx;

public class ProtoWriterTests
{
    private static byte[] Write(Action<ProtoWriter> body)
    {
        using var stream = new MemoryStream();
        var writer = new ProtoWriter(stream);
        body(writer);
        Assert.Equal(stream.Length, writer.Length);
        Assert.Equal(stream.Length, ProtoWriter.Measure(body));
        return stream.ToArray();
    }

    [Fact]
    public void Should_encode_varints_as_protobuf_does()
    {
        Assert.Equal([0x08, 0x96, 0x01], Write(w => w.Int64(1, 150)));               // the protobuf documentation's example
        Assert.Equal([0xA0, 0x01, 0x07], Write(w => w.Int64(20, 7)));                // two-byte tag (field 20)
        Assert.Equal([0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], Write(w => w.Int64(1, -1))); // ten bytes
        Assert.Equal([0x08, 0x01, 0x08, 0x02], Write(w => w.Int64s(1, [1, 2])));     // unpacked repeated
    }

    [Fact]
    public void Should_encode_floats_strings_and_nested_messages_length_delimited()
    {
        Assert.Equal([0x15, 0x00, 0x00, 0x80, 0x3F], Write(w => w.Float(2, 1f)));
        Assert.Equal([0x0A, 0x03, (byte)'a', (byte)'b', (byte)'c'], Write(w => w.String(1, "abc")));
        Assert.Equal([0x3A, 0x04, 0x10, 0x11, 0x12, 0x00], Write(w => w.Message(7, m =>
        {
            m.Int64(2, 17);
            m.Bytes(2, []);
        })));
    }

    [Fact]
    public void Should_write_tensor_raw_data_little_endian()
    {
        var tensor = OnnxTensor.Floats("t", [2], [1f, -2f]);
        Assert.Equal([0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0], tensor.RawData);
        Assert.Throws<ArgumentException>(() => OnnxTensor.Floats("t", [3], [1f, 2f]));
    }
}
