using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ResNet.MLNet.Onnx;

/// <summary>The observed range of one activation over the calibration images.</summary>
internal readonly record struct ActivationRange(float Min, float Max)
{
    public ActivationRange Union(ActivationRange other) => new(Math.Min(Min, other.Min), Math.Max(Max, other.Max));
}

/// <summary>What calibration measured on the float graph.</summary>
/// <param name="Ranges">Each activation's quantization range, by value name.</param>
/// <param name="ChannelMeans">Each image-shaped activation's mean per channel (over images and positions), by value name:
/// the convolutions' inputs, for bias correction.</param>
internal sealed record Calibration(IReadOnlyDictionary<string, ActivationRange> Ranges, IReadOnlyDictionary<string, double[]> ChannelMeans);

/// <summary>
/// Post-training static quantization of an exported float graph to ONNX's QDQ form, the form ONNX Runtime fuses into
/// integer kernels (QLinearConv, QLinearAdd, QLinearGlobalAveragePool, int8 MaxPool):
/// <list type="bullet">
/// <item>activations: uint8, asymmetric, per tensor, over the range that minimizes the squared quantization error
/// (rounding inside, clipping outside) of the values observed on calibration images (the range always includes 0, so
/// zero is exact);</item>
/// <item>convolution weights: int8, symmetric, per output channel, with <see cref="QuantizationSettings.WeightBits"/>
/// bits (7 keeps u8 x s8 pair sums inside int16, so CPUs without VNNI compute exactly what the graph says);</item>
/// <item>convolution biases: corrected for the mean shift the rounded weights cause on calibration images (the
/// empirical bias correction of Nagel et al., 2019: b - (W_q - W) E[x]), then int32 with scale input scale x weight
/// scale, as QLinearConv requires;</item>
/// <item>a Relu after a convolution or an addition is folded into the quantization of its input: with a zero point of
/// 0 and the Relu output's range, quantizing clamps negatives to 0, which is the Relu;</item>
/// <item>the stem convolution, which reads the normalized image, stays float (its ReLU output is quantized);</item>
/// <item>MaxPool's output keeps its input's scale, so it runs on uint8 directly; the global average pooling that
/// makes the features, the head (Gemm) and everything after stay float, so the features are not rounded to 256 levels.</item>
/// </list>
/// The rewrite is a function of the float graph and the ranges only: the batched and single-row exports of one network
/// quantize identically from the same ranges.
/// </summary>
internal static class OnnxQuantizer
{
    private static readonly HashSet<string> Quantized = new(StringComparer.Ordinal) { "Conv", "Add", "MaxPool", "GlobalAveragePool" };

    /// <summary>
    /// A copy of <paramref name="model"/> that also outputs every activation the quantized graph needs a range for, and
    /// every quantized convolution's input (whose channel means correct its bias).
    /// </summary>
    public static OnnxModel CalibrationModel(OnnxModel model)
    {
        var plan = new Plan(model.Graph);
        var extra = plan.RangeKeys.Concat(plan.IntegerConvInputs).Distinct(StringComparer.Ordinal)
            .Where(k => model.Graph.Outputs.All(o => o.Name != k) && model.Graph.Inputs.All(i => i.Name != k))
            .Select(k => new OnnxValueInfo(k, OnnxDataType.Float, null));
        return model with { Graph = model.Graph with { Outputs = [.. model.Graph.Outputs, .. extra] } };
    }

    /// <summary>
    /// Runs <paramref name="calibrationModel"/> (from <see cref="CalibrationModel"/>) on the calibration batches (planar
    /// pixels of (rows, channels, height, width)) and returns each activation's range — per batch the
    /// <see cref="MseRange">range of least squared quantization error</see>, averaged over the batches — and each
    /// image-shaped activation's channel means.
    /// </summary>
    public static Calibration Calibrate(OnnxModel calibrationModel, IEnumerable<(float[] Pixels, int Rows)> batches,
        int channels, int height, int width)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC };
        using var session = new InferenceSession(calibrationModel.ToBytes(), options);
        string input = calibrationModel.Graph.Inputs[0].Name;
        var sums = new Dictionary<string, (double Min, double Max)>(StringComparer.Ordinal);
        var channelSums = new Dictionary<string, double[]>(StringComparer.Ordinal);
        int count = 0, images = 0;
        foreach (var (pixels, rows) in batches)
        {
            var batch = new DenseTensor<float>(pixels.AsMemory(0, rows * channels * height * width), [rows, channels, height, width]);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor(input, batch)]);
            foreach (var result in results)
            {
                var activation = result.AsTensor<float>();
                var values = activation is DenseTensor<float> dense ? dense.Buffer.Span : activation.ToArray();
                var range = MseRange(values, result.Name);
                sums[result.Name] = sums.TryGetValue(result.Name, out var sum) ? (sum.Min + range.Min, sum.Max + range.Max) : (range.Min, range.Max);
                if (activation.Dimensions.Length == 4)
                    AddChannelSums(channelSums.TryGetValue(result.Name, out var s) ? s : channelSums[result.Name] = new double[activation.Dimensions[1]], values, activation.Dimensions);
            }
            count++;
            images += rows;
        }
        if (count == 0)
            throw new ArgumentException("Int8 quantization needs at least one calibration image; the data has no rows.");
        return new Calibration(
            sums.ToDictionary(e => e.Key, e => new ActivationRange((float)(e.Value.Min / count), (float)(e.Value.Max / count)), StringComparer.Ordinal),
            channelSums.ToDictionary(e => e.Key, e => e.Value.Select(v => v / images).ToArray(), StringComparer.Ordinal));
    }

    /// <summary>Adds each image's mean over the positions of each channel of an (images, channels, height, width) tensor.</summary>
    private static void AddChannelSums(double[] sums, ReadOnlySpan<float> values, ReadOnlySpan<int> dims)
    {
        int positions = dims[2] * dims[3];
        for (int plane = 0; plane < dims[0] * dims[1]; plane++)
        {
            double total = 0;
            foreach (float v in values.Slice(plane * positions, positions))
                total += v;
            sums[plane % dims[1]] += total / positions;
        }
    }

    /// <summary>
    /// The range [t x min, t x max] (t = 0.97^j, j = 0..199, of the values' range widened to include 0) that minimizes the
    /// squared error of quantizing <paramref name="values"/> to 256 levels: rounding error inside the range, clipping
    /// error outside. A long tail is clipped rather than coarsening the step for every other value. Computed on a
    /// 4096-bin histogram.
    /// </summary>
    /// <exception cref="InvalidDataException">A value is not finite (named by <paramref name="name"/>).</exception>
    internal static ActivationRange MseRange(ReadOnlySpan<float> values, string name)
    {
        float min = 0, max = 0;
        foreach (float v in values)
        {
            if (!float.IsFinite(v))
                throw new InvalidDataException($"Calibration produced a non-finite value in '{name}'; check the weights and the calibration images.");
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        if (max <= min)
            return new ActivationRange(min, max);
        const int bins = 4096, candidates = 200;
        var histogram = new long[bins];
        double width = (max - (double)min) / bins;
        foreach (float v in values)
            histogram[Math.Min(bins - 1, (int)((v - (double)min) / width))]++;
        var (best, bestError) = (new ActivationRange(min, max), double.PositiveInfinity);
        for (int j = 0; j < candidates; j++)
        {
            double t = Math.Pow(0.97, j), low = min * t, high = max * t, step = (high - low) / 255;
            double error = 0;
            for (int b = 0; b < bins; b++)
            {
                if (histogram[b] == 0)
                    continue;
                double x = min + (b + 0.5) * width;
                error += histogram[b] * (x < low ? (low - x) * (low - x) : x > high ? (x - high) * (x - high) : step * step / 12);
            }
            if (error < bestError)
                (best, bestError) = (new ActivationRange((float)low, (float)high), error);
        }
        return best;
    }

    /// <summary>
    /// The QDQ form of <paramref name="model"/> with the activation ranges of <paramref name="calibration"/>, and its
    /// channel means for bias correction (a convolution whose input has none keeps its bias as it is).
    /// </summary>
    /// <exception cref="ArgumentException">A range the graph needs is missing.</exception>
    public static OnnxModel Quantize(OnnxModel model, Calibration calibration, QuantizationSettings settings)
    {
        var ranges = calibration.Ranges;
        var graph = model.Graph;
        var plan = new Plan(graph);
        var initializers = graph.Initializers.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var names = new HashSet<string>(graph.Nodes.SelectMany(n => n.Outputs).Concat(initializers.Keys).Concat(graph.Inputs.Select(i => i.Name)), StringComparer.Ordinal);
        string Claim(string name)
        {
            string unique = name;
            for (int i = 1; !names.Add(unique); i++)
                unique = $"{name}_{i}";
            return unique;
        }

        // Quantization parameters of every quantized value, by its logical name.
        var parameters = new Dictionary<string, (float Scale, byte ZeroPoint)>(StringComparer.Ordinal);
        foreach (var value in plan.Order)
        {
            parameters[value] = plan.SameScaleAs.TryGetValue(value, out var source)
                ? parameters[source]
                : ActivationParameters(ranges.TryGetValue(value, out var r) ? r
                    : throw new ArgumentException($"No calibration range for activation '{value}'."));
        }

        var nodes = new List<OnnxNode>();
        // The float weights and biases of quantized convolutions are replaced by their integer forms, not kept beside them.
        bool IntegerConv(OnnxNode n) => n.OpType == "Conv" && plan.QuantizedWeights.Contains(n.Inputs[1]);
        var replaced = graph.Nodes.Where(IntegerConv).SelectMany(n => n.Inputs.Skip(1))
            .ToHashSet(StringComparer.Ordinal);
        var newInitializers = new List<OnnxTensor>(graph.Initializers.Where(t => !replaced.Contains(t.Name)));
        var dequantized = new Dictionary<string, string>(StringComparer.Ordinal);

        void EmitQdq(string physical)
        {
            foreach (var value in plan.BySource.GetValueOrDefault(physical) ?? [])
            {
                var (scale, zeroPoint) = parameters[value];
                string scaleName = Claim(value + ".scale"), zeroName = Claim(value + ".zero_point");
                newInitializers.Add(OnnxTensor.Floats(scaleName, [], [scale]));
                newInitializers.Add(OnnxTensor.UInt8s(zeroName, [], [zeroPoint]));
                string q = Claim(value + ".quantized"), dq = Claim(value + ".dequantized");
                nodes.Add(new OnnxNode("QuantizeLinear", q, [physical, scaleName, zeroName], [q], []));
                nodes.Add(new OnnxNode("DequantizeLinear", dq, [q, scaleName, zeroName], [dq], []));
                dequantized[value] = dq;
            }
        }

        foreach (var input in graph.Inputs)
            EmitQdq(input.Name);
        foreach (var node in graph.Nodes)
        {
            if (plan.FoldedRelus.Contains(node.Name))
                continue;
            var inputs = node.Inputs.Select(i => dequantized.GetValueOrDefault(i, i)).ToArray();
            if (IntegerConv(node))
            {
                var weight = initializers[node.Inputs[1]];
                var (weightValue, weightScales) = QuantizeWeights(weight, settings.WeightBits);
                string wq = Claim(weight.Name + ".int8"), ws = Claim(weight.Name + ".scale"), wz = Claim(weight.Name + ".zero_point");
                newInitializers.Add(OnnxTensor.Int8s(wq, weight.Dims, weightValue));
                newInitializers.Add(OnnxTensor.Floats(ws, [weightScales.Length], weightScales));
                newInitializers.Add(OnnxTensor.Int8s(wz, [weightScales.Length], new sbyte[weightScales.Length]));
                string wdq = Claim(weight.Name + ".dequantized");
                nodes.Add(new OnnxNode("DequantizeLinear", wdq, [wq, ws, wz], [wdq], [OnnxAttribute.Int("axis", 0)]));
                inputs[1] = wdq;
                if (node.Inputs.Count > 2)
                {
                    var bias = initializers[node.Inputs[2]];
                    float[] biasFloats = calibration.ChannelMeans.TryGetValue(node.Inputs[0], out var means)
                        ? CorrectedBias(bias.ToFloats(), weight, weightValue, weightScales, means)
                        : bias.ToFloats();
                    float inputScale = parameters[node.Inputs[0]].Scale;
                    float[] biasScales = [.. weightScales.Select(s => s * inputScale)];
                    int[] biasValue = [.. biasFloats.Select((b, c) => (int)Math.Clamp(Math.Round(b / biasScales[c]), int.MinValue, int.MaxValue))];
                    string bq = Claim(bias.Name + ".int32"), bs = Claim(bias.Name + ".scale"), bz = Claim(bias.Name + ".zero_point");
                    newInitializers.Add(OnnxTensor.Int32s(bq, bias.Dims, biasValue));
                    newInitializers.Add(OnnxTensor.Floats(bs, [biasScales.Length], biasScales));
                    newInitializers.Add(OnnxTensor.Int32s(bz, [biasScales.Length], new int[biasScales.Length]));
                    string bdq = Claim(bias.Name + ".dequantized");
                    nodes.Add(new OnnxNode("DequantizeLinear", bdq, [bq, bs, bz], [bdq], [OnnxAttribute.Int("axis", 0)]));
                    inputs[2] = bdq;
                }
            }
            nodes.Add(node with { Inputs = inputs });
            foreach (string output in node.Outputs)
                EmitQdq(output);
        }
        // Graph outputs are never quantized, so their names are untouched.
        var quantizedGraph = graph with { Nodes = nodes, Initializers = newInitializers };
        return model with
        {
            Graph = quantizedGraph,
            DocString = model.DocString + ", int8 (QDQ)",
            Metadata = [.. model.Metadata, .. settings.ToMetadata()],
        };
    }

    /// <summary>uint8 asymmetric parameters for a range widened to include 0.</summary>
    internal static (float Scale, byte ZeroPoint) ActivationParameters(ActivationRange range)
    {
        float min = Math.Min(range.Min, 0f), max = Math.Max(range.Max, 0f);
        if (max - min < 1e-12f)
            return (1f, 0);
        float scale = (max - min) / 255f;
        return (scale, (byte)Math.Clamp(Math.Round(-min / scale), 0, 255));
    }

    /// <summary>
    /// The bias that cancels, on average, what rounding the weights changes in each output channel: the channel's output
    /// moves by sum over its kernel of (dequantized - float weight) x the mean of the input channel it reads (zero
    /// padding at the borders neglected). Grouped convolutions read their group's input channels.
    /// </summary>
    internal static float[] CorrectedBias(float[] bias, OnnxTensor weight, sbyte[] quantized, float[] scales, double[] inputMeans)
    {
        float[] w = weight.ToFloats();
        int outChannels = (int)weight.Dims[0], groupInputs = (int)weight.Dims[1], kernel = w.Length / (outChannels * groupInputs);
        if (inputMeans.Length % groupInputs != 0 || outChannels % (inputMeans.Length / groupInputs) != 0)
            throw new ArgumentException($"Convolution weight '{weight.Name}' of shape ({string.Join(", ", weight.Dims)}) does not fit an input of {inputMeans.Length} channels.");
        int outputsPerGroup = outChannels / (inputMeans.Length / groupInputs);
        var corrected = (float[])bias.Clone();
        for (int c = 0; c < outChannels; c++)
        {
            int firstInput = c / outputsPerGroup * groupInputs;
            double shift = 0;
            for (int k = 0; k < groupInputs; k++)
            {
                double weightError = 0;
                for (int i = (c * groupInputs + k) * kernel, end = i + kernel; i < end; i++)
                    weightError += quantized[i] * (double)scales[c] - w[i];
                shift += weightError * inputMeans[firstInput + k];
            }
            corrected[c] = (float)(bias[c] - shift);
        }
        return corrected;
    }

    /// <summary>Symmetric per-output-channel int8 weights (axis 0) in [-(2^(bits-1) - 1), 2^(bits-1) - 1].</summary>
    internal static (sbyte[] Values, float[] Scales) QuantizeWeights(OnnxTensor weight, int bits)
    {
        float[] w = weight.ToFloats();
        int channels = (int)weight.Dims[0];
        int perChannel = w.Length / channels;
        int qmax = (1 << (bits - 1)) - 1;
        var values = new sbyte[w.Length];
        var scales = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            var span = w.AsSpan(c * perChannel, perChannel);
            float maxAbs = 0;
            foreach (float v in span)
                maxAbs = Math.Max(maxAbs, Math.Abs(v));
            float scale = maxAbs > 0 ? maxAbs / qmax : 1f;
            scales[c] = scale;
            for (int i = 0; i < perChannel; i++)
                values[c * perChannel + i] = (sbyte)Math.Clamp(Math.Round(span[i] / scale), -qmax, qmax);
        }
        return (values, scales);
    }

    /// <summary>Which values are quantized, where their Q/DQ pair goes and which range sets their scale.</summary>
    private sealed class Plan
    {
        public Plan(OnnxGraph graph)
        {
            var consumers = new Dictionary<string, List<OnnxNode>>(StringComparer.Ordinal);
            var producers = new Dictionary<string, OnnxNode>(StringComparer.Ordinal);
            foreach (var node in graph.Nodes)
            {
                foreach (string input in node.Inputs)
                    (consumers.TryGetValue(input, out var list) ? list : consumers[input] = []).Add(node);
                foreach (string output in node.Outputs)
                    producers[output] = node;
            }
            var initializers = graph.Initializers.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
            var graphOutputs = graph.Outputs.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);

            // A Relu whose input comes only to it from a Conv or Add: quantizing that input with the Relu's range is the Relu.
            var source = new Dictionary<string, string>(StringComparer.Ordinal); // logical value -> the value computed before Q
            foreach (var relu in graph.Nodes.Where(n => n.OpType == "Relu"))
            {
                string x = relu.Inputs[0], y = relu.Outputs[0];
                if (producers.TryGetValue(x, out var p) && p.OpType is "Conv" or "Add" && consumers[x].Count == 1 && !graphOutputs.Contains(x) && !graphOutputs.Contains(y))
                {
                    FoldedRelus.Add(relu.Name);
                    source[y] = x;
                }
            }

            var values = new List<string>();
            void Add(string value)
            {
                if (initializers.Contains(value) || graphOutputs.Contains(value) || values.Contains(value))
                    return;
                // A Relu input that the Relu folds into is not a value of its own.
                if (consumers.TryGetValue(value, out var c) && c.Count == 1 && FoldedRelus.Contains(c[0].Name))
                    return;
                values.Add(value);
            }
            // The stem: a convolution reading the (normalized) image directly stays float, weights and input, as
            // quantization tools usually leave it: it costs a few percent of the work and is the most sensitive layer.
            var fromImage = graph.Inputs.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var node in graph.Nodes.Where(n => !Quantized.Contains(n.OpType)))
            {
                if (node.Inputs.Where(i => !initializers.Contains(i)).All(fromImage.Contains))
                    fromImage.UnionWith(node.Outputs);
            }
            foreach (var node in graph.Nodes.Where(n => Quantized.Contains(n.OpType)))
            {
                bool floatStem = node.OpType == "Conv" && fromImage.Contains(node.Inputs[0]);
                if (floatStem)
                    FloatConvs.Add(node.Name);
                foreach (string input in floatStem ? [] : node.Inputs)
                    Add(input);
                foreach (string output in node.Outputs)
                {
                    var next = consumers.GetValueOrDefault(output) ?? [];
                    if (next is [var only] && FoldedRelus.Contains(only.Name))
                        Add(only.Outputs[0]);
                    // A convolution or addition is fused with the quantization of its output; a pooling's output is
                    // quantized only for a quantized consumer (the pooled features stay float).
                    else if (node.OpType is "Conv" or "Add" || next.Any(n => Quantized.Contains(n.OpType)))
                        Add(output);
                }
                if (node.OpType == "MaxPool")
                    SameScaleAs[node.Outputs[0]] = node.Inputs[0];
                if (node.OpType == "Conv" && !floatStem && initializers.Contains(node.Inputs[1]))
                {
                    QuantizedWeights.Add(node.Inputs[1]);
                    IntegerConvInputs.Add(node.Inputs[0]);
                }
            }
            // Scales are computed in graph order, so a MaxPool's input comes before its output.
            var order = graph.Inputs.Select(i => i.Name).Concat(graph.Nodes.SelectMany(n => n.Outputs)).ToList();
            Order = [.. values.OrderBy(v => order.IndexOf(v))];
            foreach (string value in Order)
            {
                string physical = source.GetValueOrDefault(value, value);
                (BySource.TryGetValue(physical, out var list) ? list : BySource[physical] = []).Add(value);
            }
            // A MaxPool's output keeps its input's scale; its own range is not needed.
            RangeKeys = [.. Order.Where(v => !SameScaleAs.ContainsKey(v))];
        }

        public HashSet<string> FoldedRelus { get; } = new(StringComparer.Ordinal);
        public HashSet<string> FloatConvs { get; } = new(StringComparer.Ordinal);
        public HashSet<string> QuantizedWeights { get; } = new(StringComparer.Ordinal);
        public HashSet<string> IntegerConvInputs { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string> SameScaleAs { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, List<string>> BySource { get; } = new(StringComparer.Ordinal);
        public IReadOnlyList<string> Order { get; }
        public IReadOnlyList<string> RangeKeys { get; }
    }
}

/// <summary>How a graph is quantized, recorded in the model's metadata.</summary>
internal sealed record QuantizationSettings(int WeightBits, int CalibrationImages, string Method = "least-squares ranges, bias correction")
{
    public IEnumerable<KeyValuePair<string, string>> ToMetadata() =>
    [
        new("resnet_mlnet.precision", "int8"),
        new("resnet_mlnet.quantization", string.Create(CultureInfo.InvariantCulture,
            $"QDQ; activations uint8 per-tensor asymmetric; weights int{WeightBits} per-channel symmetric; calibration {Method} on {CalibrationImages} images")),
    ];
}
