using ResNet.MLNet.Data;
using ResNet.MLNet.Models;
using static TorchSharp.torch;

namespace ResNet.MLNet.Explain;

/// <summary>One scored image of an interpretation.</summary>
/// <param name="ImagePath">The image file.</param>
/// <param name="Actual">Its class (from its folder).</param>
/// <param name="Predicted">The network's most probable class.</param>
/// <param name="ProbabilityOfActual">The probability the network gives the actual class.</param>
/// <param name="ProbabilityOfPredicted">The probability of the predicted class.</param>
/// <param name="Loss">Cross-entropy of the actual class: -ln(<paramref name="ProbabilityOfActual"/>).</param>
public sealed record InterpretedImage(string ImagePath, string Actual, string Predicted, double ProbabilityOfActual, double ProbabilityOfPredicted, double Loss);

/// <summary>A pair of classes the network confuses: how many images of <paramref name="Actual"/> it calls <paramref name="Predicted"/>.</summary>
public sealed record ConfusedPair(string Actual, string Predicted, int Count);

/// <summary>
/// fastai's <c>ClassificationInterpretation</c>: every image of a labelled set scored by a network, sorted by loss,
/// with the confusion matrix and the most confused pairs of classes.
/// </summary>
public sealed class ClassificationInterpretation
{
    private ClassificationInterpretation(IReadOnlyList<string> classes, IReadOnlyList<InterpretedImage> images, int[][] confusion)
    {
        Classes = classes;
        Images = images;
        ConfusionMatrix = confusion;
    }

    /// <summary>Class names, in the network's class-index order (the order of the matrix).</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Every image, the highest loss first (ties: path order).</summary>
    public IReadOnlyList<InterpretedImage> Images { get; }

    /// <summary>Rows: actual class; columns: predicted class.</summary>
    public IReadOnlyList<IReadOnlyList<int>> ConfusionMatrix { get; }

    /// <summary>The fraction of images predicted as their actual class.</summary>
    public double Accuracy => Images.Count == 0 ? 0 : (double)Images.Count(i => i.Actual == i.Predicted) / Images.Count;

    /// <summary>The mean cross-entropy of the actual classes (log-loss).</summary>
    public double MeanLoss => Images.Count == 0 ? 0 : Images.Average(i => i.Loss);

    /// <summary>The <paramref name="count"/> images the network got most wrong (highest loss).</summary>
    public IReadOnlyList<InterpretedImage> TopLosses(int count) => Images.Take(Math.Max(0, count)).ToList();

    /// <summary>Off-diagonal cells with at least <paramref name="minCount"/> images, the largest first.</summary>
    public IReadOnlyList<ConfusedPair> MostConfused(int minCount = 1) =>
        Enumerable.Range(0, Classes.Count).SelectMany(a => Enumerable.Range(0, Classes.Count).Where(p => p != a)
                .Select(p => new ConfusedPair(Classes[a], Classes[p], ConfusionMatrix[a][p])))
            .Where(c => c.Count >= Math.Max(1, minCount))
            .OrderByDescending(c => c.Count).ThenBy(c => c.Actual, StringComparer.Ordinal).ThenBy(c => c.Predicted, StringComparer.Ordinal)
            .ToList();

    /// <summary>
    /// The network's class probabilities for one decoded image (in eval mode, without gradients): of the centre crop,
    /// or with <paramref name="testTimeAugmentation"/> the mean over <see cref="ImagePreprocessing.TestTimeViews"/>.
    /// </summary>
    public static float[] Probabilities(ResNetModel model, ImageTensor image, ImageModelInput input, int batchSize = 32, bool testTimeAugmentation = false) =>
        Score(model, [Views(image, input, testTimeAugmentation)], batchSize)[0];

    private static IReadOnlyList<ImageTensor> Views(ImageTensor image, ImageModelInput input, bool testTimeAugmentation) =>
        testTimeAugmentation ? ImagePreprocessing.TestTimeViews(image, input) : [ImagePreprocessing.Apply(image, input)];

    /// <summary>
    /// The mean softmax over each image's views, the views of all images forwarded together in batches of
    /// <paramref name="batchSize"/>, one dispose scope per batch; the model's training mode is restored afterwards.
    /// </summary>
    private static float[][] Score(ResNetModel model, IReadOnlyList<IReadOnlyList<ImageTensor>> viewsPerImage, int batchSize)
    {
        var sums = viewsPerImage.Select(_ => new float[model.NumClasses]).ToArray();
        var views = viewsPerImage.SelectMany((v, image) => v.Select(view => (Image: image, View: view))).ToList();
        bool training = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            foreach (var chunk in views.Chunk(Math.Max(1, batchSize)))
            {
                using var scope = NewDisposeScope();
                var first = chunk[0].View;
                var x = tensor(chunk.SelectMany(v => v.View.ToArray()).ToArray(), [chunk.Length, first.Channels, first.Height, first.Width]);
                var p = model.forward(x).softmax(1).data<float>().ToArray();
                for (int b = 0; b < chunk.Length; b++)
                    for (int c = 0; c < model.NumClasses; c++)
                        sums[chunk[b].Image][c] += p[b * model.NumClasses + c];
            }
        }
        finally
        {
            model.train(training);
        }
        for (int i = 0; i < sums.Length; i++)
            for (int c = 0; c < sums[i].Length; c++)
                sums[i][c] /= viewsPerImage[i].Count;
        return sums;
    }

    /// <summary>Scores every row with the network (see <see cref="Probabilities"/>), the views of a batch of rows forwarded together.</summary>
    /// <param name="model">A classifier network.</param>
    /// <param name="input">Its input description (size, resizing, normalization) and class names.</param>
    /// <param name="rows">Labelled images; every label must be one of <paramref name="input"/>'s class names.</param>
    /// <param name="limits">Limits checked on each image's header before decoding; default <see cref="ImageLimits.Default"/>.</param>
    /// <param name="batchSize">Images (views, with test-time augmentation) per forward pass. Default 32.</param>
    /// <param name="testTimeAugmentation">Average the probabilities over <see cref="ImagePreprocessing.TestTimeViews"/> instead of the centre crop alone.</param>
    /// <exception cref="ArgumentException">The network has no head, the input names no classes (or not one per output), or a label is not a class (named).</exception>
    /// <exception cref="InvalidDataException">An image cannot be read (named).</exception>
    public static ClassificationInterpretation Create(ResNetModel model, ImageModelInput input, IReadOnlyList<ImageFolderEntry> rows,
        ImageLimits? limits = null, int batchSize = 32, bool testTimeAugmentation = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (model.NumClasses == 0)
            throw new ArgumentException("Interpretation needs a classifier: the network has no head (features only).", nameof(model));
        if (input.ClassNames is not { } classes || classes.Count != model.NumClasses)
            throw new ArgumentException($"The input description must name the network's {model.NumClasses} classes (ImageModelInput.ClassNames); " +
                $"it names {input.ClassNames?.Count ?? 0}.", nameof(input));
        var index = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
        if (rows.FirstOrDefault(r => !index.ContainsKey(r.Label)) is { } stranger)
            throw new ArgumentException($"'{stranger.ImagePath}' is labelled '{stranger.Label}', which is not one of the network's classes ({string.Join(", ", classes)}).", nameof(rows));

        var confusion = Enumerable.Range(0, classes.Count).Select(_ => new int[classes.Count]).ToArray();
        var images = new List<InterpretedImage>(rows.Count);
        // Images are decoded a batch at a time, so memory does not grow with the number of rows.
        foreach (var chunk in rows.Chunk(Math.Max(1, batchSize)))
        {
            var scored = Score(model, chunk.Select(r => Views(ImageTensor.Load(r.ImagePath, limits), input, testTimeAugmentation)).ToList(), batchSize);
            for (int r = 0; r < chunk.Length; r++)
            {
                var probabilities = scored[r];
                int actual = index[chunk[r].Label], predicted = Array.IndexOf(probabilities, probabilities.Max());
                confusion[actual][predicted]++;
                double p = probabilities[actual];
                images.Add(new InterpretedImage(chunk[r].ImagePath, classes[actual], classes[predicted], p, probabilities[predicted], -Math.Log(Math.Max(p, 1e-12))));
            }
        }
        var sorted = images.OrderByDescending(i => i.Loss).ThenBy(i => i.ImagePath, StringComparer.Ordinal).ToList();
        return new ClassificationInterpretation(classes, sorted, confusion);
    }
}
