namespace ResNet.MLNet.Training;

/// <summary>
/// Produces items 0..count-1 on worker threads and hands them out in order, at most <c>capacity</c> items ahead of
/// the consumer: the next batches are decoded while the current one trains, and memory stays bounded whatever the
/// count. Items are taken strictly in order with <see cref="Take"/>. The first exception of a worker stops the others
/// and is rethrown, once, by the <see cref="Take"/> of the item that failed (or of any later item).
/// Disposing stops the workers, waits for them and disposes the items produced but not taken.
/// </summary>
/// <remarks>Which worker makes an item does not change it: <c>produce</c> gets only the item's index.</remarks>
internal sealed class PrefetchQueue<T> : IDisposable where T : class
{
    private readonly int count;
    private readonly Func<int, CancellationToken, T> produce;
    private readonly TaskCompletionSource<T>[] slots;
    private readonly SemaphoreSlim room;
    private readonly CancellationTokenSource stop = new();
    private readonly Thread[] workers;
    private int next = -1;
    private int taken;
    private bool disposed;
    private volatile Exception? failure;

    /// <param name="count">Number of items.</param>
    /// <param name="produce">Makes item i; called on a worker thread, never twice for the same i.</param>
    /// <param name="workers">Worker threads, at least 1.</param>
    /// <param name="capacity">Items that may be started ahead of the consumer (in progress or ready), at least 1.</param>
    public PrefetchQueue(int count, Func<int, CancellationToken, T> produce, int workers, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        this.count = count;
        this.produce = produce;
        slots = new TaskCompletionSource<T>[count];
        for (int i = 0; i < count; i++)
            slots[i] = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        room = new SemaphoreSlim(capacity, capacity);
        this.workers = new Thread[Math.Min(workers, Math.Max(count, 1))];
        for (int w = 0; w < this.workers.Length; w++)
        {
            this.workers[w] = new Thread(Work) { IsBackground = true, Name = $"resnet-mlnet loader {w}" };
            this.workers[w].Start();
        }
    }

    /// <summary>Number of items produced and not yet taken (for tests of the bound).</summary>
    internal int Ready => slots.Skip(taken).Count(s => s.Task.IsCompletedSuccessfully);

    /// <summary>Waits for item <paramref name="index"/>, which must be the next one, and hands it over (the caller owns it).</summary>
    /// <exception cref="InvalidOperationException">Items are taken out of order.</exception>
    public T Take(int index)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (index != taken)
            throw new InvalidOperationException($"Items are taken in order: expected {taken}, asked for {index}.");
        var item = slots[index].Task.GetAwaiter().GetResult(); // a worker's exception surfaces here, as itself
        taken++;
        room.Release();
        return item;
    }

    private void Work()
    {
        var token = stop.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                room.Wait(token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            int index = Interlocked.Increment(ref next);
            if (index >= count)
                return;
            try
            {
                var item = produce(index, token);
                if (!slots[index].TrySetResult(item))
                    (item as IDisposable)?.Dispose();
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                // Stopped by another worker's failure (which this item then reports too) or by Dispose.
                if (failure is { } other)
                    slots[index].TrySetException(other);
                else
                    slots[index].TrySetCanceled(token);
                return;
            }
            catch (Exception e)
            {
                // This item and every later one fail with the same exception: the run stops at the first bad item.
                failure ??= e;
                for (int i = index; i < count; i++)
                    slots[i].TrySetException(e);
                stop.Cancel();
                return;
            }
        }
    }

    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        stop.Cancel();
        foreach (var worker in workers)
            worker.Join();
        for (int i = taken; i < count; i++)
        {
            if (slots[i].Task.IsCompletedSuccessfully)
                (slots[i].Task.Result as IDisposable)?.Dispose();
            else
                slots[i].TrySetCanceled();
        }
        room.Dispose();
        stop.Dispose();
    }
}
