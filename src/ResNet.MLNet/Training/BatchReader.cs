using static TorchSharp.torch;

namespace ResNet.MLNet.Training;

/// <summary>
/// Reads batches of network input from an <see cref="ImageDataset"/>, whichever kind: images in memory are
/// preprocessed per batch on the training device (<see cref="BatchPreprocessor"/>), image files are decoded and
/// preprocessed ahead on worker threads (<see cref="StreamedBatches"/>).
/// </summary>
internal sealed class BatchReader : IDisposable
{
    private readonly ImageDataset data;
    private readonly Device device;
    private readonly BatchPreprocessor? preprocessor;
    private readonly ImageFileTransform? trainTransform;
    private readonly ImageFileTransform? evalTransform;
    private readonly Augmentation augmentation;
    private readonly int workers;
    private readonly int capacity;

    /// <param name="data">The images.</param>
    /// <param name="input">The network's input (at its channel count).</param>
    /// <param name="modelChannels">The network's input channels.</param>
    /// <param name="augmentation">Training augmentation.</param>
    /// <param name="device">Where batches go.</param>
    /// <param name="workers">Decoding threads for image files.</param>
    /// <param name="capacity">Batches of image files prepared ahead at most.</param>
    /// <exception cref="ArgumentException">The images' channels cannot feed the network.</exception>
    public BatchReader(ImageDataset data, ImageModelInput input, int modelChannels, Augmentation augmentation, Device device, int workers, int capacity)
    {
        this.data = data;
        this.device = device;
        this.augmentation = augmentation;
        this.workers = workers;
        this.capacity = capacity;
        if (data is InMemoryImageDataset)
        {
            preprocessor = new BatchPreprocessor(input, data.Channels, modelChannels, device);
        }
        else
        {
            var modelInput = input.WithChannels(modelChannels);
            trainTransform = new ImageFileTransform(modelInput, augmentation);
            evalTransform = new ImageFileTransform(modelInput, null);
        }
    }

    public ImageDataset Data => data;

    /// <summary>
    /// The training batches of one epoch: batch k holds order[k x batchSize ..]. Images in memory draw their augmentation
    /// in sequence from <paramref name="memoryRandom"/>; image files per item from (<paramref name="seed"/>, <paramref name="epoch"/>).
    /// </summary>
    public Feed Training(int[] order, int batches, int batchSize, long seed, int epoch, RandomSource memoryRandom)
    {
        if (data is InMemoryImageDataset memory)
        {
            return new Feed(k =>
            {
                var batch = Slice(order, k, batchSize);
                using var indices = tensor(batch.ToArray().Select(i => (long)i).ToArray());
                using var images = memory.Images.index_select(0, indices);
                return (preprocessor!.Training(images, augmentation, memoryRandom), data.LabelsAt(batch));
            }, null);
        }
        var streamed = new StreamedBatches((ImageFileDataset)data, order, batches, batchSize, trainTransform!, (seed, epoch), workers, capacity);
        return new Feed(k => streamed.Take(k, device), streamed);
    }

    /// <summary>Every image in order, without augmentation, in batches of <paramref name="batchSize"/> (the last may be smaller).</summary>
    public Feed Evaluation(int batchSize)
    {
        int batches = (data.Count + batchSize - 1) / batchSize;
        if (data is InMemoryImageDataset memory)
        {
            return new Feed(k =>
            {
                int start = k * batchSize, count = Math.Min(batchSize, data.Count - start);
                using var images = memory.Images.narrow(0, start, count);
                return (preprocessor!.Evaluation(images), memory.LabelRange(start, count));
            }, null);
        }
        int[] order = Enumerable.Range(0, data.Count).ToArray();
        var streamed = new StreamedBatches((ImageFileDataset)data, order, batches, batchSize, evalTransform!, null, workers, capacity);
        return new Feed(k => streamed.Take(k, device), streamed);
    }

    private static ReadOnlySpan<int> Slice(int[] order, int k, int batchSize)
    {
        int from = k * batchSize;
        return order.AsSpan(from, Math.Min(batchSize, order.Length - from));
    }

    public void Dispose() => preprocessor?.Dispose();

    /// <summary>One pass of batches, taken in order; the input tensor belongs to the caller's dispose scope.</summary>
    internal sealed class Feed(Func<int, (Tensor Input, long[] Labels)> next, IDisposable? owned) : IDisposable
    {
        public (Tensor Input, long[] Labels) Next(int k) => next(k);

        public void Dispose() => owned?.Dispose();
    }
}
