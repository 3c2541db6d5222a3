namespace ResNet.MLNet.Weights;

/// <summary>
/// A tensor as PyTorch stores it: a strided window (sizes, strides and offset in elements) on a storage's bytes.
/// <see cref="Create"/> checks the window against the storage; <see cref="Gather"/> copies it out in C order.
/// </summary>
internal sealed class StridedView
{
    private readonly long[] size;
    private readonly long[] stride;
    private readonly long offset;
    private readonly int elementSize;

    private StridedView(long[] size, long[] stride, long offset, int elementSize, long numel, bool contiguous)
    {
        this.size = size;
        this.stride = stride;
        this.offset = offset;
        this.elementSize = elementSize;
        ByteLength = numel * elementSize;
        IsContiguous = contiguous;
    }

    /// <summary>Whether the elements lie in C order without gaps, so the tensor is a plain slice of the storage.</summary>
    public bool IsContiguous { get; }

    /// <summary>Where the first element starts in the storage, in bytes.</summary>
    public long ByteOffset => ByteLength == 0 ? 0 : offset * elementSize;

    /// <summary>Bytes of the tensor's elements.</summary>
    public long ByteLength { get; }

    /// <summary>Checks a view against a storage of <paramref name="storageBytes"/> bytes.</summary>
    /// <exception cref="InvalidDataException">Ranks differ, arithmetic overflows, an element lies outside the storage, or the view
    /// has more elements than the storage (an expanded view, which would let a small file claim a huge tensor).</exception>
    public static StridedView Create(long[] size, long[] stride, long offset, int elementSize, long storageBytes)
    {
        if (size.Length != stride.Length)
            throw new InvalidDataException($"size has {size.Length} dimensions but stride has {stride.Length}");
        try
        {
            long numel = 1, last = offset, expected = 1;
            bool contiguous = true;
            for (int i = size.Length - 1; i >= 0; i--)
            {
                numel = checked(numel * size[i]);
                if (size[i] > 1 && stride[i] != expected)
                    contiguous = false;
                expected = checked(expected * size[i]);
            }
            if (numel == 0)
                return new StridedView(size, stride, 0, elementSize, 0, contiguous: true);
            for (int i = 0; i < size.Length; i++)
                last = checked(last + (size[i] - 1) * stride[i]);
            long storageElements = storageBytes / elementSize;
            if (last >= storageElements)
                throw new InvalidDataException($"view (offset {offset}, size [{string.Join(", ", size)}], stride [{string.Join(", ", stride)}]) reaches element {last} of a storage of {storageElements}");
            if (numel > storageElements)
                throw new InvalidDataException($"view of {numel} elements on a storage of {storageElements} (an expanded view); save it with .contiguous()");
            return new StridedView(size, stride, offset, elementSize, numel, contiguous);
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"view (offset {offset}, size [{string.Join(", ", size)}], stride [{string.Join(", ", stride)}]) overflows");
        }
    }

    /// <summary>The view's elements copied out in C order.</summary>
    public byte[] Gather(ReadOnlySpan<byte> storage)
    {
        var result = new byte[ByteLength];
        if (result.Length == 0)
            return result;
        int rank = size.Length;
        var index = new long[rank];
        long source = offset;
        for (int written = 0; written < result.Length; written += elementSize)
        {
            storage.Slice((int)(source * elementSize), elementSize).CopyTo(result.AsSpan(written));
            // Advance the multi-index like an odometer, last dimension fastest.
            for (int d = rank - 1; d >= 0; d--)
            {
                source += stride[d];
                if (++index[d] < size[d])
                    break;
                source -= stride[d] * size[d];
                index[d] = 0;
            }
        }
        return result;
    }
}
