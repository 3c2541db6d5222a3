using ResNet.MLNet.Weights;
using static ResNet.MLNet.Tests.Weights.WeightsFixtures;

namespace ResNet.MLNet.Tests.Weights;

public class TorchCheckpointReaderTests
{
    private const string Pwned = "/tmp/resnet_mlnet_weights_pwned"; // what the hostile fixtures try to create

    [Theory]
    [InlineData("dtypes.pth", WeightsFormat.PyTorch)]
    [InlineData("dtypes_protocol4.pth", WeightsFormat.PyTorch)]
    [InlineData("dtypes_legacy.pth", WeightsFormat.PyTorchLegacy)]
    public void Should_read_every_dtype_exactly(string file, WeightsFormat format)
    {
        var content = Read(file);
        Assert.Equal(format, content.Format);
        AssertMatchesJson(content.Tensors, Json("dtypes.json"));
    }

    [Theory]
    [InlineData("views.pth")]
    [InlineData("views_legacy.pth")]
    public void Should_honour_offsets_and_strides_of_views_on_a_shared_storage(string file)
    {
        var tensors = Read(file).Tensors;
        AssertMatchesJson(tensors, Json("views.json"));
        var byName = tensors.ToDictionary(t => t.Name);
        // Contiguous views share the storage's bytes rather than copying them.
        Assert.True(byName["row"].Data.Span.Overlaps(byName["base"].Data.Span));
        Assert.True(byName["same_as_base"].Data.Span.Overlaps(byName["base"].Data.Span));
    }

    [Theory]
    [InlineData("tiny_wrapped_state_dict.pth")]
    [InlineData("tiny_wrapped_model.pth")]
    [InlineData("tiny_wrapped_model_state.pth")]
    [InlineData("tiny_dataparallel.pth")]
    public void Should_unwrap_checkpoints_and_strip_the_DataParallel_prefix(string file)
    {
        AssertSameTensors(Read("tiny.pth").Tensors, Read(file).Tensors);
    }

    [Fact]
    public void Should_keep_plain_values_of_a_wrapper_as_metadata()
    {
        var metadata = Read("tiny_wrapped_state_dict.pth").Metadata;
        Assert.Equal("3", metadata["epoch"]);
        Assert.Equal("tiny", metadata["arch"]);
        Assert.Equal("0.5", metadata["best_acc1"]);
        Assert.False(metadata.ContainsKey("state_dict"));
    }

    [Theory]
    [InlineData("hostile_system.pth", "posix.system")]
    [InlineData("hostile_eval_protocol4.pth", "builtins.eval")]
    [InlineData("hostile_system_legacy.pth", "posix.system")]
    public void Should_refuse_a_hostile_pickle_at_its_global_without_running_anything(string file, string global)
    {
        File.Delete(Pwned);
        var e = Assert.Throws<UnsafePickleException>(() => Read(file));
        Assert.Equal(global, e.Global);
        Assert.Contains(global, e.Message);
        Assert.Contains(file, e.Message);
        Assert.False(File.Exists(Pwned), "the hostile pickle ran");
    }

    [Fact]
    public void Should_explain_when_a_pickle_holds_no_state_dict()
    {
        var e = Assert.Throws<InvalidDataException>(() => ReadZipWithPickle(
            [0x80, 0x02, 0x7D, .. "X"u8, 4, 0, 0, 0, .. "loss"u8, 0x47, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0, 0x73, 0x2E]));
        Assert.Contains("no state_dict found", e.Message);
        Assert.Contains("'loss'", e.Message);
    }

    [Fact]
    public void Should_refuse_an_expanded_view_that_claims_more_elements_than_its_storage()
    {
        // OrderedDict w -> _rebuild_tensor_v2(storage '0' of 1 float, 0, (1000000,), (0,), False, OrderedDict())
        var e = Assert.Throws<InvalidDataException>(() => ReadZipWithPickle(StateDictPickle(size: 1_000_000, stride: 0, numel: 1), storageBytes: 4));
        Assert.Contains("expanded view", e.Message);
    }

    [Fact]
    public void Should_refuse_huge_declared_sizes_without_allocating_them()
    {
        var e = Assert.Throws<InvalidDataException>(() => ReadZipWithPickle(StateDictPickle(size: 1L << 40, stride: 1, numel: 1L << 40), storageBytes: 4));
        Assert.Contains("storage '0'", e.Message);
        e = Assert.Throws<InvalidDataException>(() => ReadZipWithPickle(StateDictPickle(size: 1L << 62, stride: 1, numel: 1), storageBytes: 4));
        Assert.Contains("'w'", e.Message);
    }

    [Fact]
    public void Should_name_the_legacy_format_it_read()
    {
        Assert.Equal(WeightsFormat.PyTorchLegacy, WeightsFile.Detect(PathOf("dtypes_legacy.pth")));
    }

    /// <summary>A torch.save-like zip holding <paramref name="pickle"/> and one storage '0' of <paramref name="storageBytes"/> bytes.</summary>
    internal static WeightsFileContent ReadZipWithPickle(byte[] pickle, int storageBytes = 0)
    {
        using var stream = new MemoryStream();
        using (var zip = new System.IO.Compression.ZipArchive(stream, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var entry = zip.CreateEntry("archive/data.pkl").Open())
                entry.Write(pickle);
            using (var entry = zip.CreateEntry("archive/data/0").Open())
                entry.Write(new byte[storageBytes]);
        }
        stream.Position = 0;
        return WeightsFile.Read(stream, "crafted.pth");
    }

    /// <summary>A protocol-2 state_dict pickle with one float tensor 'w' of one dimension.</summary>
    private static byte[] StateDictPickle(long size, long stride, long numel)
    {
        static byte[] Long(long v) => [0x8A, 8, .. BitConverter.GetBytes(v)];
        static byte[] Str(string s) => [0x58, .. BitConverter.GetBytes(s.Length), .. System.Text.Encoding.ASCII.GetBytes(s)];
        static byte[] Global(string m, string n) => [0x63, .. System.Text.Encoding.ASCII.GetBytes($"{m}\n{n}\n")];
        return
        [
            0x80, 2, .. Global("collections", "OrderedDict"), 0x29, 0x52,
            .. Str("w"), .. Global("torch._utils", "_rebuild_tensor_v2"), 0x28,
            0x28, .. Str("storage"), .. Global("torch", "FloatStorage"), .. Str("0"), .. Str("cpu"), .. Long(numel), 0x74, 0x51,
            0x4B, 0, 0x28, .. Long(size), 0x74, 0x28, .. Long(stride), 0x74, 0x89, .. Global("collections", "OrderedDict"), 0x29, 0x52,
            0x74, 0x52, 0x73, 0x2E,
        ];
    }
}
