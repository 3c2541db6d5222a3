using ResNet.MLNet.Data;
using ResNet.MLNet.Models;
using static TorchSharp.torch;

namespace ResNet.MLNet.Explain;

/// <summary>
/// A Grad-CAM explanation of one image: where in the image the evidence for a class lies.
/// </summary>
/// <param name="ClassIndex">The class explained.</param>
/// <param name="Probabilities">The network's softmax over all classes for the image.</param>
/// <param name="Stage">The 0-based stage whose activations were weighted.</param>
/// <param name="Heatmap">Row-major relevance in [0, 1] at the input's resolution (<paramref name="Height"/> x <paramref name="Width"/>); all zeros when no location speaks for the class.</param>
/// <param name="Height">Rows of the heatmap (the network input's height).</param>
/// <param name="Width">Columns of the heatmap (the network input's width).</param>
public sealed record GradCamResult(int ClassIndex, IReadOnlyList<float> Probabilities, int Stage, float[] Heatmap, int Height, int Width);

/// <summary>An explained image: the crop the network saw, the same crop under its heatmap, and the explanation.</summary>
/// <param name="Seen">The network's crop before normalization, in [0, 1].</param>
/// <param name="Overlay">RGB in [0, 1]: the crop with the heatmap blended over it.</param>
/// <param name="Cam">The explanation.</param>
public sealed record GradCamPicture(ImageTensor Seen, ImageTensor Overlay, GradCamResult Cam);

/// <summary>
/// Grad-CAM (Selvaraju et al., 2017): the activations of a stage, weighted per channel by the spatial mean of the
/// class score's gradient, summed over channels and rectified, then upsampled bilinearly to the input and scaled to
/// [0, 1]. At the last stage of a network whose head is pooling and one linear layer this equals the class activation
/// map of Zhou et al. (2016).
/// </summary>
public static class GradCam
{
    /// <summary>Explains <paramref name="classIndex"/> (default: the predicted class) for one preprocessed image.</summary>
    /// <param name="model">A network of the zoo with a classifier head; it is run in eval mode and its parameters and their gradients are left as they were.</param>
    /// <param name="image">The image as the network takes it (resized, cropped, normalized: <see cref="ImagePreprocessing"/>).</param>
    /// <param name="classIndex">The class to explain; default the most probable one.</param>
    /// <param name="stage">The 0-based stage to weight; default the last (the coarsest map, the most class-specific).</param>
    /// <exception cref="ArgumentException">The network has no head, or the image's channels differ from the network's.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The class index or stage is out of range.</exception>
    public static GradCamResult Compute(ResNetModel model, ImageTensor image, int? classIndex = null, int? stage = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(image);
        if (model.NumClasses == 0)
            throw new ArgumentException("Grad-CAM explains a class score: the network has no classifier head (features only).", nameof(model));
        if (image.Channels != model.Options.InChannels)
            throw new ArgumentException($"The image has {image.Channels} channel(s); the network takes {model.Options.InChannels}.", nameof(image));
        int last = model.NumStages - 1;
        int at = stage ?? last;
        if (at < 0 || at > last)
            throw new ArgumentOutOfRangeException(nameof(stage), at, $"The network has stages 0 to {last}.");
        if (classIndex is int requested && (requested < 0 || requested >= model.NumClasses))
            throw new ArgumentOutOfRangeException(nameof(classIndex), requested, $"The network has classes 0 to {model.NumClasses - 1}.");

        var parameters = model.parameters().ToList();
        var trainable = parameters.Select(p => p.requires_grad).ToList();
        bool training = model.training;
        using var scope = NewDisposeScope();
        try
        {
            // Only the activations need a gradient: parameters keep their .grad untouched.
            foreach (var p in parameters)
                p.requires_grad = false;
            model.eval();
            using var enable = enable_grad();
            using var x = image.ToBatch();
            Tensor h = model.ForwardStem(x);
            for (int s = 0; s <= at; s++)
                h = model.ForwardStage(s, h);
            var activations = h.detach().requires_grad_(true);
            Tensor rest = activations;
            for (int s = at + 1; s <= last; s++)
                rest = model.ForwardStage(s, rest);
            var logits = model.ForwardHeadFromLastStage(rest);
            var probabilities = logits.softmax(1).data<float>().ToArray();
            int target = classIndex ?? Array.IndexOf(probabilities, probabilities.Max());
            logits[0, target].backward();

            var weights = activations.grad!.mean([2, 3], keepdim: true);           // (1, K, 1, 1)
            var map = (weights * activations).sum(1, keepdim: true).relu();          // (1, 1, h, w)
            var upsampled = nn.functional.interpolate(map, [image.Height, image.Width], mode: InterpolationMode.Bilinear, align_corners: false);
            var max = upsampled.max().item<float>();
            var heatmap = max > 0 ? (upsampled / max).clamp(0, 1) : upsampled.zeros_like();
            return new GradCamResult(target, probabilities, at, heatmap.data<float>().ToArray(), image.Height, image.Width);
        }
        finally
        {
            for (int i = 0; i < parameters.Count; i++)
                parameters[i].requires_grad = trainable[i];
            model.train(training);
        }
    }

    /// <summary>
    /// Explains one decoded image end to end: preprocesses it as <paramref name="input"/> says, computes Grad-CAM, and
    /// returns the crop the network saw (before normalization, in [0, 1]) with the heatmap blended over it.
    /// </summary>
    /// <param name="model">A network of the zoo with a classifier head.</param>
    /// <param name="image">The decoded image (RGB in [0, 1], as <see cref="ImageTensor.Load"/> gives it).</param>
    /// <param name="input">The network's input description (resize, crop, normalization).</param>
    /// <param name="classIndex">The class to explain; default the most probable one.</param>
    public static GradCamPicture Explain(ResNetModel model, ImageTensor image, ImageModelInput input, int? classIndex = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(input);
        var cam = Compute(model, ImagePreprocessing.Apply(image, input), classIndex);
        var seen = ImagePreprocessing.Apply(image, input with
        {
            Mean = Enumerable.Repeat(0f, input.Mean.Count).ToArray(),
            Std = Enumerable.Repeat(1f, input.Std.Count).ToArray(),
            MeanImage = null,
        });
        return new GradCamPicture(seen, Overlay(seen, cam), cam);
    }

    /// <summary>
    /// Blends the heatmap, coloured from blue (0) through green and yellow to red (1), over <paramref name="image"/>.
    /// </summary>
    /// <param name="image">The image the heatmap explains, RGB or grey in [0, 1], at the heatmap's size (the network's crop before normalization).</param>
    /// <param name="cam">The explanation.</param>
    /// <param name="opacity">Weight of the colour in the blend, in [0, 1]. Default 0.45.</param>
    /// <returns>An RGB image in [0, 1].</returns>
    /// <exception cref="ArgumentException">Sizes differ, or the opacity is outside [0, 1].</exception>
    public static ImageTensor Overlay(ImageTensor image, GradCamResult cam, float opacity = 0.45f)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(cam);
        if (image.Height != cam.Height || image.Width != cam.Width)
            throw new ArgumentException($"The image is {image.Width}x{image.Height}; the heatmap is {cam.Width}x{cam.Height}.", nameof(image));
        if (!(opacity >= 0 && opacity <= 1))
            throw new ArgumentException($"The opacity must be in [0, 1]; got {opacity}.", nameof(opacity));
        int plane = image.Height * image.Width;
        var source = image.Data;
        var blended = new float[3 * plane];
        for (int i = 0; i < plane; i++)
        {
            var (r, g, b) = Colour(cam.Heatmap[i]);
            for (int c = 0; c < 3; c++)
            {
                float pixel = source[(image.Channels == 1 ? 0 : c) * plane + i];
                float colour = c == 0 ? r : c == 1 ? g : b;
                blended[c * plane + i] = (1 - opacity) * pixel + opacity * colour;
            }
        }
        return new ImageTensor(3, image.Height, image.Width, blended);
    }

    /// <summary>A jet-like colour map: blue, cyan, green, yellow, red.</summary>
    internal static (float R, float G, float B) Colour(float v)
    {
        v = Math.Clamp(v, 0f, 1f);
        static float Ramp(float x) => Math.Clamp(1.5f - Math.Abs(x), 0f, 1f);
        return (Ramp(4 * v - 3), Ramp(4 * v - 2), Ramp(4 * v - 1));
    }
}
