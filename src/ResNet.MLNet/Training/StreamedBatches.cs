using System.Buffers;
using Microsoft.ML.Data;
using ResNet.MLNet.Data;
using static TorchSharp.torch;

namespace ResNet.MLNet.Training;

/// <summary>
/// The per-image preprocessing of <see cref="ImageFileDataset"/> rows, on the decoded original: for training,
/// torchvision's <c>RandomResizedCrop</c> (or the evaluation resize and centre crop), horizontal flip and colour jitter
/// as <see cref="Augmentation"/> says; for evaluation, <see cref="ImagePreprocessing.Apply(MLImage, ImageModelInput)"/>. Then grayscale for a
/// one-channel network and normalization. Random choices come from the item's own <see cref="RandomSource"/>.
/// </summary>
internal sealed class ImageFileTransform(ImageModelInput input, Augmentation? augmentation)
{
    /// <summary>Values per image: channels x size x size.</summary>
    public int Values => input.Channels * input.ImageSize * input.ImageSize;

    public ImageModelInput Input => input;

    /// <summary>The network input of a decoded image; a random crop converts only its own pixels to float.</summary>
    public ImageTensor Apply(MLImage image, RandomSource? random)
    {
        if (augmentation is null || random is null || !augmentation.IsEnabled)
            return ImagePreprocessing.Apply(image, input);
        int size = input.ImageSize;
        ImageTensor x;
        if (augmentation.RandomResizedCrop)
        {
            var (top, left, h, w) = BatchPreprocessor.CropBox(image.Height, image.Width, augmentation.MinScale, random);
            x = ImageTensor.FromImage(image, top, left, h, w).Resize(size, size);
        }
        else
        {
            x = ImagePreprocessing.Cropped(image, input);
        }
        if (augmentation.HorizontalFlip && random.NextDouble() < 0.5)
            x = x.FlipHorizontal();
        if (augmentation.ColorJitter > 0)
        {
            double s = augmentation.ColorJitter;
            x = x.AdjustColors((float)random.NextDouble(1 - s, 1 + s), (float)random.NextDouble(1 - s, 1 + s), (float)random.NextDouble(1 - s, 1 + s));
        }
        return ImagePreprocessing.Finish(x, input);
    }
}

/// <summary>A prepared batch: network input values (pooled) and labels. Disposing returns the values to the pool.</summary>
internal sealed class PreparedBatch(float[] values, int count, long[] labels) : IDisposable
{
    private float[]? values = values;

    public int Count { get; } = count;

    public long[] Labels { get; } = labels;

    /// <summary>The batch as an N x C x H x W float tensor on <paramref name="device"/>.</summary>
    public Tensor ToTensor(ImageModelInput input, Device device)
    {
        ObjectDisposedException.ThrowIf(values is null, this);
        int size = input.ImageSize;
        long n = (long)Count * input.Channels * size * size;
        var x = empty([Count, input.Channels, size, size], ScalarType.Float32);
        x.bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan(0, (int)n));
        return device.type == TorchSharp.DeviceType.CPU ? x : x.to(device);
    }

    public void Dispose()
    {
        if (values is not null)
            ArrayPool<float>.Shared.Return(values);
        values = null;
    }
}

/// <summary>
/// The batches of one pass over an <see cref="ImageFileDataset"/> in a given order, prepared ahead on worker threads
/// (<see cref="PrefetchQueue{T}"/>) and taken in order. Item k of the order draws its augmentation from
/// <see cref="RandomSource.ForItem"/>(seed, epoch, 1, k): the batches do not depend on the number of workers.
/// </summary>
internal sealed class StreamedBatches : IDisposable
{
    private readonly PrefetchQueue<PreparedBatch> queue;
    private readonly ImageFileTransform transform;

    /// <param name="data">The files.</param>
    /// <param name="order">Rows in the order to read them; batch k is order[k x batchSize ..].</param>
    /// <param name="batches">Number of batches to make (a trailing partial batch included when it is counted here).</param>
    /// <param name="batchSize">Images per batch.</param>
    /// <param name="transform">Per-image preprocessing.</param>
    /// <param name="random">Seed and epoch of the items' generators; null for evaluation (no randomness).</param>
    /// <param name="workers">Decoding threads.</param>
    /// <param name="capacity">Batches prepared ahead at most.</param>
    public StreamedBatches(ImageFileDataset data, int[] order, int batches, int batchSize, ImageFileTransform transform,
        (long Seed, int Epoch)? random, int workers, int capacity)
    {
        this.transform = transform;
        queue = new PrefetchQueue<PreparedBatch>(batches, (k, token) =>
        {
            int from = k * batchSize, count = Math.Min(batchSize, order.Length - from);
            var values = ArrayPool<float>.Shared.Rent(count * transform.Values);
            try
            {
                for (int j = 0; j < count; j++)
                {
                    token.ThrowIfCancellationRequested();
                    var item = random is { } r ? RandomSource.ForItem(r.Seed, r.Epoch, stream: 1, from + j) : null;
                    using var decoded = data.Decode(order[from + j]);
                    transform.Apply(decoded, item).Data.CopyTo(values.AsSpan(j * transform.Values, transform.Values));
                }
                return new PreparedBatch(values, count, data.LabelsAt(order.AsSpan(from, count)));
            }
            catch
            {
                ArrayPool<float>.Shared.Return(values);
                throw;
            }
        }, workers, capacity);
    }

    /// <summary>Batch <paramref name="k"/> (the next one) as input on <paramref name="device"/> and labels.</summary>
    /// <exception cref="InvalidDataException">An image of this or an earlier-started batch could not be read; the message names the file.</exception>
    public (Tensor Input, long[] Labels) Take(int k, Device device)
    {
        using var batch = queue.Take(k);
        return (batch.ToTensor(transform.Input, device), batch.Labels);
    }

    public void Dispose() => queue.Dispose();
}
