using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using static TorchSharp.torch;

namespace ResNet.MLNet.Training;

/// <summary>
/// Feature vectors of a dataset's rows (float32, one row per image), kept in memory when they fit in the budget and
/// otherwise in a temporary file (nameless once open where the OS allows, else deleted on dispose), from which batches
/// are gathered by row. Either way the values handed out are the ones stored, so training on them does not depend on
/// where they are kept.
/// </summary>
internal sealed class FeatureCache : IDisposable
{
    private readonly Tensor? memory;
    private readonly FileStream? file;
    private readonly int width;

    private FeatureCache(Tensor? memory, FileStream? file, int count, int width)
    {
        this.memory = memory;
        this.file = file;
        Count = count;
        this.width = width;
    }

    public int Count { get; }

    /// <summary>True when the rows are in a temporary file.</summary>
    public bool OnDisk => file is not null;

    /// <summary>
    /// Stores the rows that <paramref name="batches"/> yields, in order (each N x width, on any device), in memory when
    /// count x width x 4 bytes fit in <paramref name="memoryBudget"/>, else in a temporary file.
    /// </summary>
    public static FeatureCache Build(int count, IEnumerable<Tensor> batches, long memoryBudget)
    {
        FileStream? file = null;
        var kept = new List<Tensor>();
        int width = 0, rows = 0;
        try
        {
            foreach (var batch in batches)
            {
                using var cpu = batch.to(CPU).contiguous();
                width = (int)cpu.shape[1];
                if (file is null && (long)count * width * sizeof(float) > memoryBudget)
                {
                    string path = Path.Combine(Path.GetTempPath(), $"resnet-mlnet-features-{Guid.NewGuid():N}.bin");
                    file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
                    // Where an open file can lose its name (not Windows), it does at once: a killed process leaves nothing.
                    if (!OperatingSystem.IsWindows())
                        File.Delete(path);
                }
                if (file is not null)
                    file.Write(MemoryMarshal.AsBytes(cpu.data<float>().ToArray().AsSpan()));
                else
                    kept.Add(cpu.clone().DetachFromDisposeScope());
                rows += (int)cpu.shape[0];
            }
            if (rows != count)
                throw new InvalidOperationException($"Expected features of {count} rows; got {rows}.");
            Tensor? memory = null;
            if (file is null)
            {
                memory = cat(kept, 0).DetachFromDisposeScope();
            }
            else
            {
                file.Flush();
            }
            return new FeatureCache(memory, file, count, width);
        }
        catch
        {
            file?.Dispose();
            throw;
        }
        finally
        {
            foreach (var t in kept)
                t.Dispose();
        }
    }

    /// <summary>The rows at <paramref name="rows"/>, in that order, as a float32 tensor on <paramref name="device"/>.</summary>
    public Tensor Gather(ReadOnlySpan<int> rows, Device device)
    {
        if (memory is not null)
        {
            using var indices = tensor(rows.ToArray().Select(i => (long)i).ToArray());
            var selected = memory.index_select(0, indices);
            return device.type == TorchSharp.DeviceType.CPU ? selected : selected.to(device);
        }
        var values = new float[rows.Length * width];
        SafeFileHandle handle = file!.SafeFileHandle;
        for (int i = 0; i < rows.Length; i++)
        {
            var target = MemoryMarshal.AsBytes(values.AsSpan(i * width, width));
            long offset = (long)rows[i] * width * sizeof(float);
            int read = 0;
            while (read < target.Length)
            {
                int n = RandomAccess.Read(handle, target[read..], offset + read);
                if (n == 0)
                    throw new EndOfStreamException($"The feature cache {file.Name} ends before row {rows[i]}.");
                read += n;
            }
        }
        // Copied into libtorch's own (aligned) memory, as the in-memory rows are: kernels may round differently on other alignments.
        var gathered = empty([rows.Length, width], ScalarType.Float32);
        gathered.bytes = MemoryMarshal.AsBytes(values.AsSpan());
        return device.type == TorchSharp.DeviceType.CPU ? gathered : gathered.to(device);
    }

    public void Dispose()
    {
        memory?.Dispose();
        file?.Dispose();
    }
}
