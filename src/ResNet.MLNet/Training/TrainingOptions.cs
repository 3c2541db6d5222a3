namespace ResNet.MLNet.Training;

/// <summary>The optimizer that updates the weights.</summary>
public enum OptimizerKind
{
    /// <summary>SGD with momentum (PyTorch's formulation), optionally Nesterov: the ResNet paper's recipe.</summary>
    Sgd,
    /// <summary>AdamW (decoupled weight decay, Loshchilov and Hutter 2019) with beta1 = <see cref="TrainingOptions.Momentum"/>, beta2 = 0.999, eps = 1e-8.</summary>
    AdamW,
}

/// <summary>How the learning rate changes over training; computed per step.</summary>
public enum ScheduleKind
{
    /// <summary>The learning rate throughout (after the linear warmup, if any).</summary>
    Constant,
    /// <summary>Linear warmup over <see cref="TrainingOptions.WarmupEpochs"/>, then cosine decay to 0 at the last step.</summary>
    CosineWithWarmup,
    /// <summary>Divided by 10 at each epoch in <see cref="TrainingOptions.StepMilestones"/>, as in the ResNet paper (after any warmup).</summary>
    StepDecay,
    /// <summary>
    /// fastai's one-cycle: cosine rise from lr/25 to lr over the first quarter of the steps (or over
    /// <see cref="TrainingOptions.WarmupEpochs"/> when set), then cosine decay to lr/2.5e6 (lr/25/1e5). Momentum is not cycled.
    /// </summary>
    OneCycle,
}

/// <summary>Which parameters training may change.</summary>
public enum FreezeMode
{
    /// <summary>Everything trains (after <see cref="TrainingOptions.FreezeEpochs"/>, if set).</summary>
    None,
    /// <summary>Only the classifier head trains: linear probing.</summary>
    HeadOnly,
    /// <summary>The head and the last <see cref="TrainingOptions.TrainLastStages"/> stages train; the stem and earlier stages are frozen.</summary>
    AllButLastStages,
}

/// <summary>The validation metric early stopping watches.</summary>
public enum EarlyStoppingMetric
{
    /// <summary>Lower is better.</summary>
    ValidationLoss,
    /// <summary>Higher is better.</summary>
    ValidationAccuracy,
}

/// <summary>
/// Everything <see cref="ResNetTrainer.Train"/> needs besides the model and the data. Every property has a documented
/// default; the defaults fine-tune a pretrained network (AdamW, one-cycle, light augmentation).
/// </summary>
public sealed class TrainingOptions
{
    /// <summary>Total epochs, including <see cref="FreezeEpochs"/>. Default 5.</summary>
    public int Epochs { get; set; } = 5;

    /// <summary>Images per step. A trailing batch of a single image is dropped (BatchNorm needs two). Default 32.</summary>
    public int BatchSize { get; set; } = 32;

    /// <summary>Peak learning rate of the head; see <see cref="Schedule"/> and <see cref="EarlyStageLearningRateFactor"/>. Default 1e-3.</summary>
    public float LearningRate { get; set; } = 1e-3f;

    /// <summary>Optimizer. Default <see cref="OptimizerKind.AdamW"/>.</summary>
    public OptimizerKind Optimizer { get; set; } = OptimizerKind.AdamW;

    /// <summary>SGD momentum, or AdamW's beta1, in [0, 1). Default 0.9.</summary>
    public float Momentum { get; set; } = 0.9f;

    /// <summary>Nesterov momentum for SGD (ignored by AdamW). Default false.</summary>
    public bool Nesterov { get; set; }

    /// <summary>
    /// Weight decay: L2 added to the gradient for SGD (the paper uses 1e-4), decoupled for AdamW. Default 0.01 (AdamW's usual value).
    /// </summary>
    public float WeightDecay { get; set; } = 0.01f;

    /// <summary>Exempt BatchNorm weights and all biases (every parameter of rank 0 or 1) from weight decay. Default true.</summary>
    public bool NoWeightDecayOnNormAndBias { get; set; } = true;

    /// <summary>Learning-rate schedule. Default <see cref="ScheduleKind.OneCycle"/>.</summary>
    public ScheduleKind Schedule { get; set; } = ScheduleKind.OneCycle;

    /// <summary>
    /// Epochs of linear warmup from near 0 for <see cref="ScheduleKind.Constant"/>, <see cref="ScheduleKind.CosineWithWarmup"/>
    /// and <see cref="ScheduleKind.StepDecay"/>; the rising phase of <see cref="ScheduleKind.OneCycle"/> (0: a quarter of training). Default 0.
    /// </summary>
    public int WarmupEpochs { get; set; }

    /// <summary>Epochs (1-based: the epoch that first runs at the lower rate) at which <see cref="ScheduleKind.StepDecay"/> divides by 10. Default empty.</summary>
    public IReadOnlyList<int> StepMilestones { get; set; } = [];

    /// <summary>Label smoothing of the cross-entropy loss, in [0, 1). Default 0.</summary>
    public float LabelSmoothing { get; set; }

    /// <summary>
    /// Which parameters train after the first <see cref="FreezeEpochs"/>. Frozen parameters get no gradient and no update
    /// (not even weight decay), and the BatchNorm layers of frozen parts stay in evaluation mode so their running
    /// statistics do not change either (as timm does; fastai's default would keep training them). Default <see cref="FreezeMode.None"/>.
    /// </summary>
    public FreezeMode Freeze { get; set; } = FreezeMode.None;

    /// <summary>With <see cref="FreezeMode.AllButLastStages"/>: how many of the last stages train, from 1 to the model's stage count. Default 1.</summary>
    public int TrainLastStages { get; set; } = 1;

    /// <summary>
    /// fastai's <c>fine_tune</c>: train only the head for this many first epochs, then train as <see cref="Freeze"/> says.
    /// Counted in <see cref="Epochs"/>; must be less than it. Default 0.
    /// </summary>
    public int FreezeEpochs { get; set; }

    /// <summary>
    /// Discriminative learning rates, in (0, 1]: a parameter group at distance d from the head (head 0, last stage 1, ...,
    /// first stage N, stem N + 1) trains at lr x factor^d. Default 1: one learning rate everywhere.
    /// </summary>
    public float EarlyStageLearningRateFactor { get; set; } = 1f;

    /// <summary>
    /// Input size, resizing and normalization, the same in training and evaluation. Default null: the pretrained
    /// weights' own (in the classifier), else ImageNet's mean and std at 224 pixels.
    /// </summary>
    public ImageModelInput? Input { get; set; }

    /// <summary>Side of the square network input in pixels, overriding <see cref="Input"/>'s. Default null (224 unless the input says otherwise).</summary>
    public int? ImageSize { get; set; }

    /// <summary>The input training uses for a model with <paramref name="channels"/> input channels: <see cref="Input"/>, else <paramref name="fallback"/>, else ImageNet's at 224 pixels, at <see cref="ImageSize"/>.</summary>
    internal ImageModelInput ResolveInput(int channels, ImageModelInput? fallback = null) =>
        (Input ?? fallback ?? new ImageModelInput()).WithImageSize(ImageSize).WithChannels(channels);

    /// <summary>Random changes to training images; none is applied in evaluation. Default <see cref="Augmentation.Default"/>.</summary>
    public Augmentation Augmentation { get; set; } = Augmentation.Default;

    /// <summary>
    /// Stop when this validation metric has not improved for <see cref="Patience"/> epochs, and end with the weights of the
    /// best epoch. Needs a validation set. Default null: train every epoch and keep the last weights.
    /// </summary>
    public EarlyStoppingMetric? EarlyStopping { get; set; }

    /// <summary>Epochs without improvement before early stopping. Default 3.</summary>
    public int Patience { get; set; } = 3;

    /// <summary>
    /// Where to write <c>last.safetensors</c> after every completed epoch (weights, optimizer state, history, best weights),
    /// atomically: an interrupted write never damages the previous checkpoint. Default null: no checkpoints.
    /// </summary>
    public string? CheckpointDirectory { get; set; }

    /// <summary>
    /// Continue from the checkpoint in <see cref="CheckpointDirectory"/> when there is one (starting afresh when there is
    /// none); the result equals that of an uninterrupted run with the same options. Default false.
    /// </summary>
    public bool Resume { get; set; }

    /// <summary>
    /// With <see cref="Resume"/>: continue even when the options that shape training (learning rate, batch size, image
    /// size, schedule, freezing, ...; see <see cref="ResumeSensitive"/>) differ from those the checkpoint was written with.
    /// Without it such a resume fails naming the differences. Epochs may always change. Default false.
    /// </summary>
    public bool ResumeOverride { get; set; }

    /// <summary>
    /// The options a checkpoint records and a resume compares, by name, as invariant text. <see cref="Epochs"/> is not
    /// among them (a run may be extended); <see cref="Optimizer"/> is checked on its own (its state must fit).
    /// </summary>
    public IReadOnlyDictionary<string, string> ResumeSensitive()
    {
        static string Text(IFormattable value) => value.ToString(null, System.Globalization.CultureInfo.InvariantCulture);
        return new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            [nameof(BatchSize)] = Text(BatchSize),
            [nameof(LearningRate)] = Text(LearningRate),
            [nameof(Momentum)] = Text(Momentum),
            [nameof(Nesterov)] = Nesterov.ToString(),
            [nameof(WeightDecay)] = Text(WeightDecay),
            [nameof(Schedule)] = Schedule.ToString(),
            [nameof(WarmupEpochs)] = Text(WarmupEpochs),
            [nameof(LabelSmoothing)] = Text(LabelSmoothing),
            [nameof(Freeze)] = Freeze.ToString(),
            [nameof(FreezeEpochs)] = Text(FreezeEpochs),
            [nameof(Seed)] = Text(Seed),
            [nameof(ImageSize)] = Text(ImageSize ?? Input?.ImageSize ?? new ImageModelInput().ImageSize),
            [nameof(MixedPrecisionBFloat16)] = MixedPrecisionBFloat16.ToString(),
        };
    }

    /// <summary>Seed of the data order and augmentation; with the same model weights and seed, CPU training is bit-identical. Default 0.</summary>
    public long Seed { get; set; }

    /// <summary>TorchSharp device: "cpu", "cuda", "cuda:1". The model is moved there. Default "cpu".</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>
    /// Compute forward and backward in bfloat16 on a copy of the network while the model keeps float32 master weights,
    /// optimizer state and BatchNorm statistics; the loss is computed in float32. Validation runs on the bfloat16 copy too.
    /// About 4x faster on CPUs with AVX512-BF16 (ResNet-50), slower on CPUs without it, where libtorch emulates bfloat16:
    /// <see cref="BFloat16Support.IsNativeOnCpu"/> tells which, and a run on a CPU without it says so
    /// (<see cref="TrainingResult.Precision"/>, and a warning to the classifier's <c>Log</c>). Default false.
    /// </summary>
    public bool MixedPrecisionBFloat16 { get; set; }

    /// <summary>
    /// Threads that decode and augment images of an <see cref="ImageFileDataset"/> ahead of training (PyTorch's
    /// <c>DataLoader(num_workers)</c>). The batches do not depend on it. Default null: the processor count.
    /// </summary>
    public int? DecodeWorkers { get; set; }

    /// <summary>Batches of an <see cref="ImageFileDataset"/> prepared ahead at most (ready or in progress). Default null: twice the workers.</summary>
    public int? PrefetchBatches { get; set; }

    /// <summary>The decoding threads in effect: <see cref="DecodeWorkers"/> or the processor count.</summary>
    internal int Workers => DecodeWorkers ?? Environment.ProcessorCount;

    /// <summary>The prefetch bound in effect.</summary>
    internal int Prefetch => PrefetchBatches ?? 2 * Workers;

    /// <summary>
    /// While only the head trains (<see cref="FreezeMode.HeadOnly"/> or the first <see cref="FreezeEpochs"/>), compute
    /// the frozen backbone's pooled features of every image once and train the head on them, as ML.NET's
    /// ImageClassificationTrainer caches bottleneck values: later head-only epochs cost a small fraction of a full one.
    /// Validation features are cached whenever only the head trains; training features only when
    /// <see cref="Augmentation"/> is off (augmented images differ every epoch, so their features cannot be reused).
    /// The cache holds 4 x features bytes per image (2 KB for ResNet-18, 8 KB for ResNet-50), in memory up to
    /// <see cref="FeatureCacheMemoryBudget"/> and in a temporary file beyond, and is freed when the backbone starts
    /// training. Default true.
    /// </summary>
    public bool CacheFrozenFeatures { get; set; } = true;

    /// <summary>
    /// Bytes the frozen-feature cache of one dataset (training or validation) may take in memory; a larger cache goes to
    /// a temporary file (deleted afterwards) read by row. Default 1 GiB (about 130,000 ResNet-50 or 520,000 ResNet-18 images).
    /// </summary>
    public long FeatureCacheMemoryBudget { get; set; } = 1L << 30;

    /// <summary>Receives a report after every step and every epoch, on the training thread. Default null.</summary>
    public IProgress<TrainingProgress>? Progress { get; set; }

    /// <summary>Stops training at the next step boundary; the result then says it was cancelled. Default none.</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>Test seam: runs after a checkpoint's temporary file is complete and before it replaces the last one.</summary>
    internal Action<string>? BeforeCheckpointCommit { get; set; }

    /// <summary>A shallow copy (the same Input, Augmentation and Progress objects), for callers that adjust a few settings.</summary>
    public TrainingOptions Copy() => (TrainingOptions)MemberwiseClone();

    /// <summary>Checks the options, naming the one at fault.</summary>
    /// <exception cref="ArgumentException">An option is out of range or contradicts another.</exception>
    public void Validate()
    {
        Require(Epochs >= 1, nameof(Epochs), $"must be at least 1; got {Epochs}");
        Require(BatchSize >= 1, nameof(BatchSize), $"must be at least 1; got {BatchSize}");
        Require(LearningRate > 0 && float.IsFinite(LearningRate), nameof(LearningRate), $"must be positive and finite; got {LearningRate}");
        Require(Enum.IsDefined(Optimizer), nameof(Optimizer), $"is not a known optimizer: {Optimizer}");
        Require(Momentum >= 0 && Momentum < 1, nameof(Momentum), $"must be in [0, 1); got {Momentum}");
        Require(!Nesterov || Optimizer != OptimizerKind.Sgd || Momentum > 0, nameof(Nesterov), "needs a positive Momentum");
        Require(WeightDecay >= 0 && float.IsFinite(WeightDecay), nameof(WeightDecay), $"must be non-negative and finite; got {WeightDecay}");
        Require(Enum.IsDefined(Schedule), nameof(Schedule), $"is not a known schedule: {Schedule}");
        Require(WarmupEpochs >= 0 && WarmupEpochs < Epochs, nameof(WarmupEpochs), $"must be in [0, {nameof(Epochs)} = {Epochs}); got {WarmupEpochs}");
        Require(StepMilestones is not null && StepMilestones.All(m => m >= 1) && StepMilestones.Zip(StepMilestones.Skip(1)).All(p => p.First < p.Second),
            nameof(StepMilestones), $"must be increasing epochs, each at least 1; got [{string.Join(", ", StepMilestones ?? [])}]");
        Require(Schedule != ScheduleKind.StepDecay || StepMilestones!.Count > 0, nameof(StepMilestones), $"must list at least one epoch for {nameof(ScheduleKind.StepDecay)}");
        Require(LabelSmoothing >= 0 && LabelSmoothing < 1, nameof(LabelSmoothing), $"must be in [0, 1); got {LabelSmoothing}");
        Require(Enum.IsDefined(Freeze), nameof(Freeze), $"is not a known freeze mode: {Freeze}");
        Require(TrainLastStages >= 1, nameof(TrainLastStages), $"must be at least 1; got {TrainLastStages}");
        Require(FreezeEpochs >= 0 && FreezeEpochs < Epochs, nameof(FreezeEpochs), $"must be in [0, {nameof(Epochs)} = {Epochs}); got {FreezeEpochs}");
        Require(FreezeEpochs == 0 || Freeze != FreezeMode.HeadOnly, nameof(FreezeEpochs), $"has no effect with {nameof(Freeze)} = {nameof(FreezeMode.HeadOnly)}: the head alone trains throughout");
        Require(EarlyStageLearningRateFactor > 0 && EarlyStageLearningRateFactor <= 1, nameof(EarlyStageLearningRateFactor), $"must be in (0, 1]; got {EarlyStageLearningRateFactor}");
        Require(ImageSize is null or >= 1, nameof(ImageSize), $"must be positive; got {ImageSize}");
        Input?.Validate();
        Require(Augmentation is not null, nameof(Augmentation), $"must be set (use {nameof(Training.Augmentation)}.{nameof(Training.Augmentation.None)} for none)");
        Augmentation!.Validate();
        Require(EarlyStopping is null || Enum.IsDefined(EarlyStopping.Value), nameof(EarlyStopping), $"is not a known metric: {EarlyStopping}");
        Require(Patience >= 1, nameof(Patience), $"must be at least 1; got {Patience}");
        Require(DecodeWorkers is null or >= 1, nameof(DecodeWorkers), $"must be at least 1; got {DecodeWorkers}");
        Require(FeatureCacheMemoryBudget >= 0, nameof(FeatureCacheMemoryBudget), $"must not be negative; got {FeatureCacheMemoryBudget}");
        Require(PrefetchBatches is null or >= 1, nameof(PrefetchBatches), $"must be at least 1; got {PrefetchBatches}");
        Require(!Resume || !string.IsNullOrWhiteSpace(CheckpointDirectory), nameof(Resume), $"needs a {nameof(CheckpointDirectory)}");
        Require(!string.IsNullOrWhiteSpace(Device), nameof(Device), "must name a device such as \"cpu\" or \"cuda\"");
        TorchSharp.DeviceType type;
        try
        {
            type = new TorchSharp.torch.Device(Device).type;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            throw new ArgumentException($"{nameof(Device)} '{Device}' is not a device such as \"cpu\", \"cuda\" or \"cuda:1\": {UserMessages.Of(e)}", nameof(Device), e);
        }
        Require(type is TorchSharp.DeviceType.CPU or TorchSharp.DeviceType.CUDA or TorchSharp.DeviceType.MPS, nameof(Device),
            $"'{Device}' is not a training device; use \"cpu\", \"cuda\", \"cuda:N\" or \"mps\"");
    }

    private static void Require(bool condition, string option, string problem)
    {
        if (!condition)
            throw new ArgumentException($"{option} {problem}.", option);
    }
}
