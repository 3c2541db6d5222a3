using System.Text;
using ResNet.MLNet.Weights;
using static ResNet.MLNet.Tests.Weights.WeightsFixtures;

namespace ResNet.MLNet.Tests.Weights;

public class SafeTensorsTests
{
    [Fact]
    public void Should_read_every_dtype_of_a_file_written_by_the_spec()
    {
        var content = Read("dtypes.safetensors");
        Assert.Equal(WeightsFormat.SafeTensors, content.Format);
        AssertMatchesJson(content.Tensors, Json("dtypes.json"));
    }

    [Theory]
    [InlineData("dtypes.pth", "dtypes.safetensors")]
    [InlineData("tiny.pth", "tiny.safetensors")]
    public void Should_write_the_same_bytes_as_the_spec_with_header_padding_and_metadata(string source, string expected)
    {
        var metadata = Read(expected).Metadata;
        using var written = new MemoryStream();
        SafeTensors.Write(written, Read(source).Tensors, metadata);
        Assert.Equal(File.ReadAllBytes(PathOf(expected)), written.ToArray());
        Assert.Equal(0, BitConverter.ToInt64(written.ToArray(), 0) % 8);
    }

    [Fact]
    public void Should_read_the_metadata_map()
    {
        var metadata = WeightsMetadata.FromDictionary(Read("tiny.safetensors").Metadata);
        Assert.Equal("tiny", metadata.Architecture);
        Assert.Equal(2, metadata.NumClasses);
    }

    [Fact]
    public void Should_round_trip_toolkit_metadata()
    {
        var metadata = new WeightsMetadata
        {
            Architecture = "resnet50", NumClasses = 2, PretrainedFrom = "resnet50.tv2_in1k",
            Input = ImageModelInput.ImageNet with { ResizeSize = 232, ClassNames = ["cat", "dog"] },
        };
        using var stream = new MemoryStream();
        SafeTensors.Write(stream, Read("tiny.pth").Tensors, metadata.ToDictionary());
        var back = WeightsMetadata.FromDictionary(SafeTensors.Read(stream.ToArray(), "memory").Metadata);
        Assert.Equal(metadata.Architecture, back.Architecture);
        Assert.Equal(metadata.NumClasses, back.NumClasses);
        Assert.Equal(metadata.PretrainedFrom, back.PretrainedFrom);
        Assert.NotNull(back.Input);
        Assert.Equal(metadata.Input.Mean, back.Input.Mean);
        Assert.Equal(metadata.Input.Std, back.Input.Std);
        Assert.Equal((3, 224, 232), (back.Input.Channels, back.Input.ImageSize, back.Input.ResizeSize));
        Assert.Equal(metadata.Input.ClassNames, back.Input.ClassNames);
    }

    public static TheoryData<string, byte[], string> Invalid => new()
    {
        { "fewer than 8 bytes", [1, 2, 3], "at least 8 bytes" },
        { "header over the limit", [.. BitConverter.GetBytes(100_000_001UL), .. "{}"u8], "exceeds" },
        { "header past the end", [.. BitConverter.GetBytes(100UL), .. "{}      "u8], "past the end" },
        { "invalid UTF-8", Bytes(new byte[] { (byte)'{', 0xC3, 0x28, (byte)'}' }, 0), "UTF-8" },
        { "invalid JSON", Bytes("{\"a\":"u8.ToArray(), 0), "JSON" },
        { "not an object", Bytes("[]"u8.ToArray(), 0), "not a JSON object" },
        { "unknown dtype", Bytes("""{"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}""", 4), "unknown dtype 'F33'" },
        { "negative dimension", Bytes("""{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4), "non-negative" },
        { "offsets with a gap", Bytes("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12), "contiguous" },
        { "offsets not from 0", Bytes("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8), "contiguous" },
        { "wrong byte count", Bytes("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}""", 4), "needs 8 bytes" },
        { "overflowing shape", Bytes("""{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}""", 4), "overflowing" },
        { "bytes after the data", Bytes("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 5), "the file has" },
        { "duplicate keys", Bytes("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8), "twice" },
        { "metadata not strings", Bytes("""{"__metadata__":{"k":1}}""", 0), "__metadata__" },
        { "valid dtype TorchSharp lacks", Bytes("""{"a":{"dtype":"U16","shape":[1],"data_offsets":[0,2]}}""", 2), "TorchSharp cannot hold" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Should_apply_the_reference_validation_rules(string rule, byte[] file, string message)
    {
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Read(file, rule));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Should_refuse_to_write_duplicate_names()
    {
        var t = Read("tiny.pth").Tensors[0];
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(new MemoryStream(), [t, t]));
    }

    private static byte[] Bytes(string header, int dataBytes) => Bytes(Encoding.UTF8.GetBytes(header), dataBytes);

    private static byte[] Bytes(byte[] header, int dataBytes) => [.. BitConverter.GetBytes((ulong)header.Length), .. header, .. new byte[dataBytes]];
}
