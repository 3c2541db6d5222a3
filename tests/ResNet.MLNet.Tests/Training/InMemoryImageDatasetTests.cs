using ResNet.MLNet.Training;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Training;

public class InMemoryImageDatasetTests
{
    private static InMemoryImageDataset WithClassSizes(params int[] sizes)
    {
        var labels = sizes.SelectMany((count, c) => Enumerable.Repeat((long)c, count)).ToArray();
        var pixels = labels.Select((_, i) => (byte)i).ToArray(); // 1x1x1 images numbered by position
        return InMemoryImageDataset.FromPixels(pixels, 1, 1, 1, labels, sizes.Select((_, c) => $"class{c}").ToArray());
    }

    [Fact]
    public void Should_split_every_class_into_both_parts()
    {
        using var data = WithClassSizes(2, 3, 10, 5);

        var (train, validation) = data.SplitStratified(0.2, seed: 1);
        using (train)
        using (validation)
        {
            Assert.Equal(data.Count, train.Count + validation.Count);
            for (int c = 0; c < 4; c++)
            {
                Assert.Contains((long)c, train.Labels);
                Assert.Contains((long)c, validation.Labels);
            }
            Assert.Equal(2, validation.Labels.Count(l => l == 2)); // round(10 x 0.2)
            Assert.Equal(data.ClassNames, validation.ClassNames);
            // Images travel with their labels, and no image is in both parts.
            var trainIds = train.Images.data<byte>().ToArray();
            var validationIds = validation.Images.data<byte>().ToArray();
            Assert.Empty(trainIds.Intersect(validationIds));
            Assert.All(trainIds.Zip(train.Labels), p => Assert.Equal(data.Labels[p.First], p.Second));
        }
        var (again, againValidation) = data.SplitStratified(0.2, seed: 1);
        using (again)
        using (againValidation)
            Assert.Equal(validation.Labels.Count, againValidation.Labels.Count);
    }

    [Fact]
    public void Should_name_a_class_too_small_to_split()
    {
        using var data = WithClassSizes(4, 1, 4);

        var error = Assert.Throws<ArgumentException>(() => data.SplitStratified(0.25, seed: 1));

        Assert.Contains("'class1'", error.Message);
    }

    [Fact]
    public void Should_take_a_subset_in_the_given_order()
    {
        using var data = WithClassSizes(2, 2);

        using var subset = data.Subset([3, 0]);

        Assert.Equal([1L, 0L], subset.Labels);
        Assert.Equal(new byte[] { 3, 0 }, subset.Images.data<byte>().ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Subset([4]));
    }

    [Fact]
    public void Should_reject_inconsistent_input()
    {
        Assert.Throws<ArgumentException>(() => new InMemoryImageDataset(zeros(2, 1, 4, 4), [0, 0], ["a"])); // float, not uint8
        Assert.Throws<ArgumentException>(() => new InMemoryImageDataset(zeros(2, 1, 4, 4, ScalarType.Byte), [0], ["a"]));
        Assert.Throws<ArgumentException>(() => new InMemoryImageDataset(zeros(2, 1, 4, 4, ScalarType.Byte), [0, 2], ["a", "b"]));
    }
}
