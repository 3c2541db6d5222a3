namespace ResNet.MLNet.Training;

/// <summary>
/// Random changes applied to training images only, independently per image and reproducibly from the training seed.
/// In order: random-resized crop (or plain resize), horizontal flip, colour jitter (brightness, contrast, saturation).
/// </summary>
public sealed class Augmentation
{
    /// <summary>
    /// Crop a random region and resize it to the input size, as torchvision's <c>RandomResizedCrop</c>: area fraction in
    /// [<see cref="MinScale"/>, 1], aspect ratio in [3/4, 4/3] (log-uniform), ten tries, then a centre crop. When false,
    /// the whole image is resized. Default true.
    /// </summary>
    public bool RandomResizedCrop { get; set; } = true;

    /// <summary>
    /// Smallest area fraction of a random crop, in (0, 1]. Default 0.35, fastai's choice for fine-tuning
    /// (torchvision's 0.08 is meant for ImageNet training from scratch and is harsh on small images).
    /// </summary>
    public float MinScale { get; set; } = 0.35f;

    /// <summary>Mirror left-right with probability 1/2. Default true (turn it off for text, digits or other chiral images).</summary>
    public bool HorizontalFlip { get; set; } = true;

    /// <summary>
    /// Strength s of colour jitter in [0, 1): brightness, contrast and saturation are each scaled by a factor drawn
    /// uniformly from [1 - s, 1 + s] (torchvision's <c>ColorJitter(s, s, s)</c>, applied in that fixed order); 0 turns it
    /// off. Saturation has no effect on grayscale images. Default 0.2 (fastai's lighting strength).
    /// </summary>
    public float ColorJitter { get; set; } = 0.2f;

    /// <summary>No augmentation: every image is only resized.</summary>
    public static Augmentation None => new() { RandomResizedCrop = false, HorizontalFlip = false, ColorJitter = 0 };

    /// <summary>The defaults: random-resized crop (scale 0.35..1), horizontal flip, colour jitter 0.2.</summary>
    public static Augmentation Default => new();

    /// <summary>True when any augmentation is on.</summary>
    public bool IsEnabled => RandomResizedCrop || HorizontalFlip || ColorJitter > 0;

    /// <summary>Checks the settings, naming the one at fault.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        if (!(MinScale > 0 && MinScale <= 1))
            throw new ArgumentException($"{nameof(Augmentation)}.{nameof(MinScale)} must be in (0, 1]; got {MinScale}.", nameof(MinScale));
        if (!(ColorJitter >= 0 && ColorJitter < 1))
            throw new ArgumentException($"{nameof(Augmentation)}.{nameof(ColorJitter)} must be in [0, 1); got {ColorJitter}.", nameof(ColorJitter));
    }
}
