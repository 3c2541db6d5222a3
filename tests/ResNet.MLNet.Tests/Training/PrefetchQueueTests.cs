using ResNet.MLNet.Training;

namespace ResNet.MLNet.Tests.Training;

public class PrefetchQueueTests
{
    private sealed class Item(int index) : IDisposable
    {
        public int Index { get; } = index;
        public bool Disposed { get; private set; }
        public void Dispose() => Disposed = true;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Items_come_out_in_order_whatever_the_workers(int workers)
    {
        var random = new ThreadLocal<Random>(() => new Random(Environment.CurrentManagedThreadId));
        using var queue = new PrefetchQueue<Item>(50, (i, _) =>
        {
            Thread.Sleep(random.Value!.Next(0, 3)); // workers finish out of order
            return new Item(i);
        }, workers, capacity: 3);
        for (int i = 0; i < 50; i++)
            Assert.Equal(i, queue.Take(i).Index);
    }

    [Fact]
    public void No_more_than_capacity_items_are_started_ahead_of_the_consumer()
    {
        int started = 0;
        using var queue = new PrefetchQueue<Item>(40, (i, _) =>
        {
            Interlocked.Increment(ref started);
            return new Item(i);
        }, workers: 4, capacity: 3);
        for (int i = 0; i < 10; i++)
        {
            Thread.Sleep(20); // time for the workers to run ahead as far as they may
            Assert.InRange(Volatile.Read(ref started), 0, i + 3);
            Assert.InRange(queue.Ready, 0, 3);
            queue.Take(i);
        }
    }

    [Fact]
    public void A_worker_exception_surfaces_once_at_the_failing_item_after_the_good_ones()
    {
        using var queue = new PrefetchQueue<Item>(20, (i, _) =>
            i == 5 ? throw new InvalidDataException("Image 'five.png' is corrupt.") : new Item(i), workers: 3, capacity: 4);
        for (int i = 0; i < 5; i++)
            Assert.Equal(i, queue.Take(i).Index);
        var error = Assert.Throws<InvalidDataException>(() => queue.Take(5));
        Assert.Contains("five.png", error.Message);
    }

    [Fact]
    public void Items_are_taken_in_order_only()
    {
        using var queue = new PrefetchQueue<Item>(3, (i, _) => new Item(i), workers: 1, capacity: 1);
        Assert.Throws<InvalidOperationException>(() => queue.Take(1));
    }

    [Fact]
    public void Dispose_stops_the_workers_and_frees_items_not_taken()
    {
        var made = new System.Collections.Concurrent.ConcurrentBag<Item>();
        var queue = new PrefetchQueue<Item>(100, (i, _) =>
        {
            var item = new Item(i);
            made.Add(item);
            return item;
        }, workers: 2, capacity: 4);
        var first = queue.Take(0);
        Thread.Sleep(50);
        queue.Dispose();
        Assert.InRange(made.Count, 1, 1 + 4);
        Assert.All(made.Where(m => m != first), m => Assert.True(m.Disposed));
        Assert.False(first.Disposed);
    }
}
