using ResNet.MLNet.Data;
using ResNet.MLNet.Explain;
using ResNet.MLNet.Models;
using ResNet.MLNet.Tests.TestSupport;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Explain;

public class ClassificationInterpretationTests
{
    private static readonly IReadOnlyList<ImageFolderEntry> Rows = ImageFolder.List(Repo.SampleData, new ImageFolderOptions { Split = "test" });
    private static readonly string[] Classes = Rows.Select(r => r.Label).Distinct().Order(StringComparer.Ordinal).ToArray();
    private static readonly ImageModelInput Input = new() { ImageSize = 32, Mean = [0.5f, 0.5f, 0.5f], Std = [0.25f, 0.25f, 0.25f], ClassNames = Classes };

    private static ResNetModel Network() =>
        ResNetModels.Build(ResNetModels.Options("cifar_resnet20") with { NumClasses = Classes.Length }, seed: 3);

    [Fact]
    public void Images_are_scored_sorted_by_loss_and_counted_in_the_matrix()
    {
        using var model = Network();
        var interpretation = ClassificationInterpretation.Create(model, Input, Rows, batchSize: 7);

        Assert.Equal(Rows.Count, interpretation.Images.Count);
        Assert.Equal(Rows.Count, interpretation.ConfusionMatrix.Sum(r => r.Sum()));
        Assert.All(Classes.Select((c, i) => (c, i)), p => Assert.Equal(Rows.Count(r => r.Label == p.c), interpretation.ConfusionMatrix[p.i].Sum()));
        for (int i = 1; i < interpretation.Images.Count; i++)
            Assert.True(interpretation.Images[i - 1].Loss >= interpretation.Images[i].Loss);
        Assert.All(interpretation.Images, i => Assert.Equal(-Math.Log(i.ProbabilityOfActual), i.Loss, 1e-6));
        int correct = Enumerable.Range(0, Classes.Length).Sum(c => interpretation.ConfusionMatrix[c][c]);
        Assert.Equal((double)correct / Rows.Count, interpretation.Accuracy, 1e-12);
        Assert.Equal(interpretation.Images.Count(i => i.Actual != i.Predicted), interpretation.MostConfused().Sum(c => c.Count));
        Assert.Equal(interpretation.Images.Take(3), interpretation.TopLosses(3));

        // The worst image's prediction is the network's argmax on that image alone.
        var worst = interpretation.Images[0];
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.eval();
        var pixels = ImagePreprocessing.Load(worst.ImagePath, Input);
        var probabilities = model.forward(tensor(pixels.ToArray(), [1, 3, 32, 32])).softmax(1).data<float>().ToArray();
        Assert.Equal(worst.Predicted, Classes[Array.IndexOf(probabilities, probabilities.Max())]);
        Assert.Equal(probabilities[Array.IndexOf(Classes, worst.Actual)], worst.ProbabilityOfActual, 1e-5);
    }

    [Fact]
    public void Test_time_augmentation_averages_the_probabilities_of_every_view()
    {
        using var model = Network();
        var input = Input with { ResizeSize = 36 };
        string image = Rows[0].ImagePath;
        var averaged = ClassificationInterpretation.Probabilities(model, ImageTensor.Load(image), input, batchSize: 3, testTimeAugmentation: true);

        var views = ImagePreprocessing.TestTimeViews(ImageTensor.Load(image), input);
        Assert.Equal(10, views.Count);
        var expected = new double[Classes.Length];
        foreach (var view in views)
        {
            var single = ClassificationInterpretationProbe.Softmax(model, view);
            for (int c = 0; c < expected.Length; c++)
                expected[c] += single[c] / views.Count;
        }
        for (int c = 0; c < expected.Length; c++)
            Assert.Equal(expected[c], averaged[c], 1e-5);
        Assert.Equal(1.0, averaged.Sum(), 1e-4);
        var plain = ClassificationInterpretation.Probabilities(model, ImageTensor.Load(image), input);
        Assert.Equal(ClassificationInterpretationProbe.Softmax(model, views[0]), plain.Select(p => (double)p).ToArray(), new ToleranceComparer(1e-5));
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
    }

    private static class ClassificationInterpretationProbe
    {
        public static double[] Softmax(ResNetModel model, ImageTensor view)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            model.eval();
            return model.forward(view.ToBatch()).softmax(1).data<float>().Select(v => (double)v).ToArray();
        }
    }

    [Fact]
    public void Most_confused_pairs_come_largest_first()
    {
        using var model = Network();
        var pairs = ClassificationInterpretation.Create(model, Input, Rows).MostConfused(minCount: 2);
        Assert.All(pairs, p => Assert.True(p.Count >= 2 && p.Actual != p.Predicted));
        for (int i = 1; i < pairs.Count; i++)
            Assert.True(pairs[i - 1].Count >= pairs[i].Count);
    }

    [Fact]
    public void Labels_and_classes_the_network_does_not_know_are_named()
    {
        using var model = Network();
        var stranger = Rows.Take(2).Append(new ImageFolderEntry(Rows[0].ImagePath, "giraffe")).ToList();
        var e = Assert.Throws<ArgumentException>(() => ClassificationInterpretation.Create(model, Input, stranger));
        Assert.Contains("'giraffe'", e.Message);
        var unnamed = Assert.Throws<ArgumentException>(() => ClassificationInterpretation.Create(model, Input with { ClassNames = null }, Rows));
        Assert.Contains("ClassNames", unnamed.Message);
    }
}
