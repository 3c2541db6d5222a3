using ResNet.MLNet.Models;
using ResNet.MLNet.Tests.TestSupport;
using ResNet.MLNet.Weights;
using static ResNet.MLNet.Tests.Weights.WeightsFixtures;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Weights;

public class TorchSharpFormatTests
{
    [Fact]
    public void Should_read_what_TorchSharp_Module_save_writes()
    {
        using var dir = new TempDirectory();
        using var model = ResNetModels.CifarResNet(8);
        model.save(dir.File("model.dat"));

        var content = WeightsFile.Read(dir.File("model.dat"));
        Assert.Equal(WeightsFormat.TorchSharp, content.Format);
        var expected = model.OrderedStateDict().Select(e => NamedTensor.FromTensor(e.Key, e.Value)).ToList();
        // TorchSharp writes parameters before buffers: compare by name.
        AssertSameTensors(expected.OrderBy(t => t.Name, StringComparer.Ordinal).ToList(),
                          content.Tensors.OrderBy(t => t.Name, StringComparer.Ordinal).ToList());
    }

    [Fact]
    public void Should_write_what_TorchSharp_Module_load_reads_strictly()
    {
        using var dir = new TempDirectory();
        using var source = ResNetModels.CifarResNet(8);
        var tensors = source.OrderedStateDict().Select(e => NamedTensor.FromTensor(e.Key, e.Value)).ToList();
        TorchSharpFormat.Write(dir.File("weights.dat"), tensors);

        using var target = ResNetModels.CifarResNet(8);
        target.load(dir.File("weights.dat"), strict: true);
        foreach (var ((key, a), (_, b)) in source.OrderedStateDict().Zip(target.OrderedStateDict()))
            Assert.True(a.eq(b).all().item<bool>(), key);
    }

    [Theory]
    [InlineData(128)] // the count's first byte is 0x80, a pickle's PROTO opcode
    [InlineData(256)] // 0x80 0x02: exactly how a protocol-2 pickle starts
    [InlineData(80)] // 'P', as a zip starts
    public void Should_tell_TorchSharp_files_from_pickles_and_zips_whatever_their_tensor_count(int count)
    {
        var tensors = Enumerable.Range(0, count).Select(i => new NamedTensor($"t{i}", ScalarType.Float32, [1], BitConverter.GetBytes((float)i))).ToList();
        using var stream = new MemoryStream();
        TorchSharpFormat.Write(stream, tensors);
        stream.Position = 0;
        var content = WeightsFile.Read(stream, "many.dat");
        Assert.Equal(WeightsFormat.TorchSharp, content.Format);
        AssertSameTensors(tensors, content.Tensors);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F })] // 2^32 - 1 entries in 5 bytes
    [InlineData(new byte[] { 1, 1, (byte)'a', 6, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F })] // a 2^55-element tensor
    [InlineData(new byte[] { 1, 1, (byte)'a', 99, 0 })] // unknown scalar type
    [InlineData(new byte[] { 1, 1, (byte)'a', 6, 0, 0, 0, 0x80, 0x3F, 0 })] // a byte after the last tensor
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF })] // a varint of 70 bits
    public void Should_refuse_malformed_files(byte[] file)
    {
        Assert.Throws<InvalidDataException>(() => TorchSharpFormat.Read(file, "bad.dat"));
    }
}
