using System.Globalization;
using System.Runtime.InteropServices;
using ResNet.MLNet.Onnx;
using static TorchSharp.torch;

namespace ResNet.MLNet.Weights;

/// <summary>
/// Imports the weights of a ResNet stored as an ONNX graph (<c>torch.onnx.export</c>, CNTK, this library's exporter) as
/// torchvision state_dict tensors (<c>conv1.weight</c>, <c>bn1.*</c>, <c>layer1.0.conv1.weight</c>, ...,
/// <c>layerN.0.downsample.0.weight</c>, <c>fc.*</c>), which <see cref="WeightsLoader"/> loads like any checkpoint.
/// </summary>
/// <remarks>
/// The graph is walked from its input, not matched by initializer names: stem (Conv, BatchNormalization, Relu, MaxPool),
/// then residual blocks, each ending in an Add and a Relu, then the pooling and an optional classifier (Gemm, or MatMul
/// and Add). A block's shortcut Conv is the one whose output (through its BatchNormalization) feeds the block's Add; a
/// block with a shortcut Conv starts a new stage. Two convolutions per main branch make basic blocks, three bottlenecks.
/// Kernel sizes, strides, groups, dilations and pads are checked against torchvision's ResNet (CNTK's asymmetric pads,
/// such as [3, 3, 2, 2] on the stem, are accepted: they compute the same for even input sizes). A Conv with a bias and no
/// BatchNormalization (a folded export) gets an identity BatchNorm carrying the bias. ONNX has no step counters:
/// <c>num_batches_tracked</c> is 0. Reading never executes anything from the file.
/// </remarks>
public static class OnnxWeightsImporter
{
    /// <summary>The BatchNorm epsilon of torchvision's (and this library's) ResNets, which the imported statistics are made for.</summary>
    public const double ModelEpsilon = 1e-5;

    /// <summary>Reads the ONNX file <paramref name="path"/> and maps its ResNet to state_dict tensors.</summary>
    /// <exception cref="InvalidDataException">
    /// The file is malformed, or its graph is not a torchvision-layout ResNet; the message names the file and the byte offset,
    /// or the first node that differs and what was expected.
    /// </exception>
    public static WeightsFileContent Read(string path, OnnxImportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = File.OpenRead(path);
        return Read(WeightsFile.ReadAllBytes(stream, path), path, options);
    }

    /// <summary>Reads ONNX bytes; <paramref name="source"/> names them in error messages.</summary>
    /// <exception cref="InvalidDataException">See <see cref="Read(string, OnnxImportOptions?)"/>.</exception>
    public static WeightsFileContent Read(ReadOnlyMemory<byte> bytes, string source, OnnxImportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        var model = OnnxModelReader.Read(bytes, source);
        var walker = new ResNetGraphWalker(model, options ?? OnnxImportOptions.Default);
        var tensors = walker.Walk();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["onnx.producer"] = $"{model.ProducerName} {model.ProducerVersion}".Trim(),
            ["onnx.opset"] = model.OpsetVersion.ToString(CultureInfo.InvariantCulture),
            ["onnx.input"] = model.Inputs[0].Name,
            ["onnx.block"] = walker.BlockDescription,
            ["onnx.batchnorm"] = walker.FoldedNorms > 0 ? $"{walker.FoldedNorms} folded into convolutions, imported as identity plus bias" : "unfolded",
            ["onnx.input_channels"] = options?.ReverseInputChannels == true ? "reversed (BGR graph, RGB model)" : "as in the graph",
        };
        return new WeightsFileContent(WeightsFormat.Onnx, tensors, metadata);
    }

    /// <summary>Walks one graph; see the class remarks.</summary>
    private sealed class ResNetGraphWalker
    {
        private readonly OnnxModelInfo model;
        private readonly OnnxImportOptions options;
        private readonly Dictionary<string, List<OnnxNodeInfo>> consumers = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long> channels = new(StringComparer.Ordinal);
        private readonly HashSet<int> visited = [];
        private readonly List<NamedTensor> tensors = [];
        private int mainConvs; // per block: 2 basic, 3 bottleneck; 0 until the first block

        public ResNetGraphWalker(OnnxModelInfo model, OnnxImportOptions options)
        {
            this.model = model;
            this.options = options;
            foreach (var node in model.Nodes)
            {
                foreach (string input in node.Inputs.Where(i => i.Length > 0).Distinct())
                {
                    if (!consumers.TryGetValue(input, out var list))
                        consumers[input] = list = [];
                    list.Add(node);
                }
            }
        }

        public int FoldedNorms { get; private set; }

        public string BlockDescription => mainConvs == 3 ? "bottleneck" : "basic";

        public List<NamedTensor> Walk()
        {
            if (model.Inputs.Count != 1)
                throw Error($"the graph has {model.Inputs.Count} inputs ({string.Join(", ", model.Inputs.Select(i => i.Name))}); a ResNet has one image input");
            string x = model.Inputs[0].Name;
            var stem = Next(x, "Conv", "conv1 (the 7x7 stem convolution)");
            string h = ConvAndNorm(stem, "conv1", "bn1", kernel: 7, stride: 2, grouped: false, input: x);
            h = Pass(Next(h, "Relu", "the stem's ReLU"), h);
            var pool = Next(h, "MaxPool", "the stem's 3x3 max-pool with stride 2");
            CheckWindow(pool, "maxpool", kernel: 3, stride: 2);
            if (pool.Int("ceil_mode", 0) != 0)
                throw Mismatch(pool, "maxpool with ceil_mode 0", $"ceil_mode {pool.Int("ceil_mode", 0)}");
            h = Pass(pool, h);

            int stage = 0, index = 0;
            while (!IsPooling(h))
            {
                var (main, shortcut) = BlockEntry(h, stage == 0 ? "layer1.0" : $"layer{stage}.{index + 1} or layer{stage + 1}.0");
                (stage, index) = stage == 0 || shortcut is not null ? (stage + 1, 0) : (stage, index + 1);
                h = Block(h, $"layer{stage}.{index}", stride: stage > 1 && index == 0 ? 2 : 1, main, shortcut);
            }
            if (stage == 0)
                throw Error("the graph has no residual blocks between the stem and the pooling");
            Head(h, stridedStages: stage - 1);
            CheckEverythingMapped();
            return tensors;
        }

        private bool IsPooling(string h) =>
            consumers.GetValueOrDefault(h) is [{ OpType: "GlobalAveragePool" or "AveragePool" }];

        /// <summary>
        /// The two users of a block's input <paramref name="x"/>: the main branch's first Conv, and the shortcut Conv (whose
        /// output, through its BatchNormalization, feeds an Add) or null when the Add takes <paramref name="x"/> itself.
        /// </summary>
        private (OnnxNodeInfo Main, OnnxNodeInfo? Shortcut) BlockEntry(string x, string expected)
        {
            var users = consumers.GetValueOrDefault(x) ?? [];
            var convs = users.Where(n => n.OpType == "Conv").ToList();
            var add = users.FirstOrDefault(n => n.OpType == "Add");
            OnnxNodeInfo? shortcut = convs.FirstOrDefault(c => SingleUser(AfterNorm(c).Output) is { OpType: "Add" });
            var main = convs.FirstOrDefault(c => c != shortcut);
            bool shapeOk = users.Count == 2 && main is not null && (shortcut is not null || add is not null);
            if (!shapeOk)
            {
                var first = users.FirstOrDefault(n => n.OpType != "Conv" && n.OpType != "Add") ?? users.FirstOrDefault();
                string got = users.Count == 0
                    ? $"the value '{x}' is used by no node"
                    : $"the value '{x}' feeds {users.Count} node(s): {string.Join("; ", users)}";
                throw first is null
                    ? Error($"expected {expected}, a residual block (a main-branch Conv and a shortcut to an Add) or the final pooling; {got}")
                    : Mismatch(first, $"{expected}, a residual block (a main-branch Conv and a shortcut to an Add) or the final pooling", got);
            }
            return (main!, shortcut);
        }

        /// <summary>
        /// Checks and emits the block <paramref name="prefix"/> (<c>layer2.0</c>) from <paramref name="x"/>: the main branch's
        /// convolutions up to the Add, the shortcut, the Add and its ReLU; returns the ReLU's output.
        /// </summary>
        private string Block(string x, string prefix, int stride, OnnxNodeInfo main, OnnxNodeInfo? shortcut)
        {
            // The main branch: Conv, [BatchNormalization], then ReLU and the next Conv, up to the Add.
            var branch = new List<OnnxNodeInfo> { main };
            OnnxNodeInfo next;
            while (true)
            {
                var last = branch[^1];
                next = SingleUserOrThrow(AfterNorm(last).Output, $"{prefix}: a ReLU or the block's Add after {last.Name}");
                if (next.OpType == "Add")
                    break;
                if (next.OpType != "Relu" || branch.Count == 3)
                    throw Mismatch(next, $"{prefix}: a ReLU then the next convolution, or the block's Add (at most 3 convolutions per block)", next.OpType);
                branch.Add(Next(next.Outputs[0], "Conv", $"{prefix}.conv{branch.Count + 1}"));
            }
            if (mainConvs == 0 && branch.Count < 2)
                throw Mismatch(main, $"{prefix}: 2 (basic) or 3 (bottleneck) convolutions on the main branch", $"{branch.Count}");
            if (mainConvs == 0)
                mainConvs = branch.Count;
            else if (branch.Count != mainConvs)
                throw Mismatch(next, $"{prefix}: {mainConvs} convolutions on the main branch, as in the blocks before it", $"{branch.Count}");

            string h = x;
            for (int i = 0; i < branch.Count; i++)
            {
                // torchvision: a basic block strides in conv1, a bottleneck (v1.5) in its 3x3 conv2; 1x1s in a bottleneck's conv1 and conv3.
                bool bottleneck = branch.Count == 3;
                int kernel = bottleneck && i != 1 ? 1 : 3;
                int convStride = (bottleneck ? i == 1 : i == 0) ? stride : 1;
                h = ConvAndNorm(branch[i], $"{prefix}.conv{i + 1}", $"{prefix}.bn{i + 1}", kernel, convStride, grouped: bottleneck && i == 1, input: h);
                if (i < branch.Count - 1)
                    h = Pass(Next(h, "Relu", $"{prefix}.relu after conv{i + 1}"), h);
            }
            string residual = x;
            if (shortcut is not null)
                residual = ConvAndNorm(shortcut, $"{prefix}.downsample.0", $"{prefix}.downsample.1", kernel: 1, stride, grouped: false, input: x);
            else if (stride != 1)
                throw Mismatch(main, $"{prefix}: a strided block with a 1x1 convolution on its shortcut", "an identity shortcut");

            if (!(next.Inputs.Count == 2 && (next.Inputs[0] == h && next.Inputs[1] == residual || next.Inputs[0] == residual && next.Inputs[1] == h)))
                throw Mismatch(next, $"{prefix}: the Add of '{h}' and '{residual}'", $"the Add of {string.Join(" and ", next.Inputs.Select(i => $"'{i}'"))}");
            if (channels[h] != channels[residual])
                throw Mismatch(next, $"{prefix}: an Add of equal channel counts", $"{channels[h]} and {channels[residual]}");
            h = Pass(next, h);
            return Pass(Next(h, "Relu", $"{prefix}: the ReLU after the block's Add"), h);
        }

        /// <summary>The pooling, then an optional classifier behind Flatten / Reshape / Squeeze.</summary>
        private void Head(string h, int stridedStages)
        {
            var pool = consumers[h][0];
            if (pool.OpType == "AveragePool")
            {
                var pads = pool.Ints("pads");
                if (pads is not null && pads.Any(p => p != 0) || pool.Int("ceil_mode", 0) != 0)
                    throw Mismatch(pool, "global average pooling (an AveragePool without pads)", $"pads [{string.Join(", ", pads ?? [])}]");
                // An AveragePool is global only when its window covers the last feature map; check it when the input size is fixed.
                if (model.Inputs[0].Dims is [_, _, long height, long width] && pool.Ints("kernel_shape") is [long kh, long kw])
                {
                    long fh = height, fw = width;
                    for (int i = 0; i < 2 + stridedStages; i++)
                        (fh, fw) = ((fh + 1) / 2, (fw + 1) / 2);
                    if (kh != fh || kw != fw)
                        throw Mismatch(pool, $"global average pooling: a {fh}x{fw} window for the {height}x{width} input", $"kernel_shape [{kh}, {kw}]");
                }
            }
            h = Pass(pool, h);
            var user = SingleUser(h);
            while (user is { OpType: "Flatten" or "Reshape" or "Squeeze" })
            {
                h = Pass(user, h);
                user = SingleUser(h);
            }
            if (user is null)
                return; // the features are the output: no classifier
            long features = channels[h];
            switch (user.OpType)
            {
                case "Gemm":
                    if (user.Int("transA", 0) != 0 || user.Float("alpha", 1) != 1 || user.Float("beta", 1) != 1)
                        throw Mismatch(user, "fc as Gemm with transA 0, alpha 1 and beta 1", $"transA {user.Int("transA", 0)}, alpha {user.Float("alpha", 1)}, beta {user.Float("beta", 1)}");
                    Classifier(user, h, features, transposed: user.Int("transB", 0) == 0, user.Inputs.Count > 2 ? user.Inputs[2] : null);
                    break;
                case "MatMul":
                    var bias = SingleUser(user.Outputs[0]) is { OpType: "Add" } add ? add : null;
                    string? biasName = bias?.Inputs.FirstOrDefault(i => i != user.Outputs[0] && model.Initializers.ContainsKey(i));
                    if (bias is not null && biasName is not null)
                        Visit(bias);
                    Classifier(user, h, features, transposed: true, biasName);
                    break;
                default:
                    throw Mismatch(user, "fc (Gemm, or MatMul and Add) or the end of the graph after the pooling", user.OpType);
            }
        }

        /// <summary>fc.weight [classes, features] and fc.bias from a Gemm or MatMul whose weight is [features, classes] when <paramref name="transposed"/>.</summary>
        private void Classifier(OnnxNodeInfo node, string input, long features, bool transposed, string? biasName)
        {
            Visit(node);
            if (node.Inputs.Count < 2 || node.Inputs[0] != input)
                throw Mismatch(node, $"fc applied to '{input}'", $"inputs {string.Join(", ", node.Inputs.Select(i => $"'{i}'"))}");
            var weight = Initializer(node, 1, "fc.weight");
            if (weight.Dims.Count != 2 || weight.Dims[transposed ? 0 : 1] != features)
                throw Mismatch(node, $"fc.weight of {features} inputs", $"an initializer '{weight.Name}' of dims [{string.Join(", ", weight.Dims)}]{(transposed ? " (transB 0: [in, out])" : "")}");
            long classes = weight.Dims[transposed ? 1 : 0];
            float[] w = weight.ToFloats();
            if (transposed)
                w = Transpose(w, features, classes);
            tensors.Add(Float32("fc.weight", [classes, features], w));
            if (biasName is null)
            {
                tensors.Add(Float32("fc.bias", [classes], new float[classes]));
                return;
            }
            var bias = Initializer(node, biasName, "fc.bias");
            if (NamedTensor.ElementCountOf(bias.Dims) != classes || bias.Dims.Count(d => d != 1) > 1)
                throw Mismatch(node, $"fc.bias of {classes} values", $"an initializer '{bias.Name}' of dims [{string.Join(", ", bias.Dims)}]");
            tensors.Add(Float32("fc.bias", [classes], bias.ToFloats()));
        }

        /// <summary>
        /// Checks a Conv against torchvision's layer <paramref name="key"/> and emits its weight, and the BatchNorm after it
        /// (or an identity BatchNorm carrying the bias of a folded one) as <paramref name="norm"/>; returns the value after the norm.
        /// </summary>
        private string ConvAndNorm(OnnxNodeInfo conv, string key, string norm, int kernel, int stride, bool grouped, string input)
        {
            Visit(conv);
            if (conv.Inputs.Count < 2 || conv.Inputs[0] != input)
                throw Mismatch(conv, $"{key}: a convolution of '{input}'", $"inputs {string.Join(", ", conv.Inputs.Select(i => $"'{i}'"))}");
            var weight = Initializer(conv, 1, key + ".weight");
            if (weight.Dims.Count != 4 || weight.Dims[2] != kernel || weight.Dims[3] != kernel)
                throw Mismatch(conv, $"{key}: a {kernel}x{kernel} convolution", $"weight '{weight.Name}' of dims [{string.Join(", ", weight.Dims)}]");
            long group = conv.Int("group", 1);
            bool stem = !channels.TryGetValue(input, out long inChannels);
            if (stem)
                inChannels = weight.Dims[1] * group;
            if (group < 1 || (!grouped && group != 1) || weight.Dims[1] * group != inChannels || weight.Dims[0] % group != 0)
                throw Mismatch(conv, $"{key}: {(grouped ? "a grouped" : "an ungrouped")} convolution of {inChannels} input channels",
                    $"group {group} and weight dims [{string.Join(", ", weight.Dims)}]");
            if (stem && model.Inputs[0].Dims is [_, long c, ..] && c != inChannels)
                throw Mismatch(conv, $"{key}: a convolution of the input's {c} channels", $"{inChannels} input channels");
            CheckWindow(conv, key, kernel, stride);
            var dilations = conv.Ints("dilations");
            if (dilations is not null && dilations.Any(d => d != 1))
                throw Mismatch(conv, $"{key} with dilation 1", $"dilations [{string.Join(", ", dilations)}]");

            long outChannels = weight.Dims[0];
            byte[] w = weight.ToFloat32Bytes();
            if (key == "conv1" && options.ReverseInputChannels)
                w = ReverseInputChannels(conv, w, weight.Dims);
            tensors.Add(new NamedTensor(key + ".weight", ScalarType.Float32, weight.Dims.ToArray(), w));

            float[]? convBias = conv.Inputs.Count > 2 && conv.Inputs[2].Length > 0 ? Vector(conv, conv.Inputs[2], outChannels, key + " bias") : null;
            string output = conv.Outputs[0];
            channels[output] = outChannels;
            var bn = SingleUser(output) is { OpType: "BatchNormalization" } n ? n : null;
            float[] scale, shift, mean, variance;
            if (bn is null)
            {
                // Folded: y = conv + b, which BatchNorm(weight 1, bias b, mean 0, var 1 - eps) computes exactly enough.
                FoldedNorms++;
                scale = Filled(outChannels, 1);
                shift = convBias ?? new float[outChannels];
                mean = new float[outChannels];
                variance = Filled(outChannels, (float)(1 - ModelEpsilon));
            }
            else
            {
                Visit(bn);
                if (bn.Inputs.Count != 5 || bn.Int("spatial", 1) != 1 || bn.Int("training_mode", 0) != 0)
                    throw Mismatch(bn, $"{norm}: an inference BatchNormalization (5 inputs, spatial 1)", $"{bn.Inputs.Count} inputs, spatial {bn.Int("spatial", 1)}, training_mode {bn.Int("training_mode", 0)}");
                scale = Vector(bn, bn.Inputs[1], outChannels, norm + ".weight");
                shift = Vector(bn, bn.Inputs[2], outChannels, norm + ".bias");
                mean = Vector(bn, bn.Inputs[3], outChannels, norm + ".running_mean");
                variance = Vector(bn, bn.Inputs[4], outChannels, norm + ".running_var");
                // BN(conv + b) = BN with mean - b; another epsilon moves into the variance, so that var + 1e-5 is unchanged.
                if (convBias is not null)
                    mean = mean.Zip(convBias, (m, b) => m - b).ToArray();
                double epsilon = bn.Float("epsilon", 1e-5f);
                if (Math.Abs(epsilon - ModelEpsilon) > 1e-3 * ModelEpsilon)
                    variance = variance.Select(v => (float)(v + epsilon - ModelEpsilon)).ToArray();
                output = bn.Outputs[0];
                channels[output] = outChannels;
            }
            long[] shape = [outChannels];
            tensors.Add(Float32(norm + ".weight", shape, scale));
            tensors.Add(Float32(norm + ".bias", shape, shift));
            tensors.Add(Float32(norm + ".running_mean", shape, mean));
            tensors.Add(Float32(norm + ".running_var", shape, variance));
            tensors.Add(new NamedTensor(norm + ".num_batches_tracked", ScalarType.Int64, [], new byte[sizeof(long)]));
            return output;
        }

        /// <summary>Kernel, strides, pads and auto_pad of a Conv or MaxPool: pads k/2 on every side, or CNTK's [p, p, p-1, p-1] when strided.</summary>
        private void CheckWindow(OnnxNodeInfo node, string key, int kernel, int stride)
        {
            var kernelShape = node.Ints("kernel_shape");
            if (kernelShape is not null && !kernelShape.SequenceEqual([kernel, kernel]))
                throw Mismatch(node, $"{key}: kernel_shape [{kernel}, {kernel}]", $"[{string.Join(", ", kernelShape)}]");
            var strides = node.Ints("strides") ?? [1, 1];
            if (!strides.SequenceEqual([stride, stride]))
                throw Mismatch(node, $"{key}: strides [{stride}, {stride}] (torchvision's place for the stride)", $"[{string.Join(", ", strides)}]");
            string? autoPad = node.Text("auto_pad");
            if (autoPad is not (null or "" or "NOTSET"))
                throw Mismatch(node, $"{key} with explicit pads", $"auto_pad {autoPad}");
            long p = kernel / 2;
            var pads = node.Ints("pads") ?? [0, 0, 0, 0];
            bool symmetric = pads.SequenceEqual([p, p, p, p]);
            bool cntk = stride == 2 && p > 0 && pads.SequenceEqual([p, p, p - 1, p - 1]);
            if (!symmetric && !cntk)
                throw Mismatch(node, $"{key}: pads [{p}, {p}, {p}, {p}]{(stride == 2 && p > 0 ? $" (or [{p}, {p}, {p - 1}, {p - 1}])" : "")}", $"[{string.Join(", ", pads)}]");
        }

        private byte[] ReverseInputChannels(OnnxNodeInfo conv, byte[] weight, IReadOnlyList<long> dims)
        {
            if (dims[1] != 3)
                throw Mismatch(conv, "conv1 of 3 input channels, as ReverseInputChannels needs", $"{dims[1]}");
            int plane = (int)(dims[2] * dims[3]) * sizeof(float);
            var reversed = new byte[weight.Length];
            for (int o = 0; o < dims[0]; o++)
            {
                for (int c = 0; c < 3; c++)
                    weight.AsSpan((o * 3 + c) * plane, plane).CopyTo(reversed.AsSpan((o * 3 + 2 - c) * plane));
            }
            return reversed;
        }

        /// <summary>The only user of <paramref name="value"/>, the node passed through, with the value's channel count carried to its output.</summary>
        private string Pass(OnnxNodeInfo node, string value)
        {
            Visit(node);
            channels[node.Outputs[0]] = channels.GetValueOrDefault(value);
            return node.Outputs[0];
        }

        /// <summary>Marks a node mapped; a node reached twice means a cycle, which a well-formed graph cannot have (and which would loop the walk).</summary>
        private void Visit(OnnxNodeInfo node)
        {
            if (!visited.Add(node.Index))
                throw Mismatch(node, "each node reached once", "a node reached a second time (the graph has a cycle)");
        }

        /// <summary>The single user of <paramref name="value"/>, which must be a <paramref name="opType"/> node (<paramref name="expected"/> in errors).</summary>
        private OnnxNodeInfo Next(string value, string opType, string expected)
        {
            var node = SingleUserOrThrow(value, expected);
            if (node.OpType != opType || node.Domain is not ("" or "ai.onnx") || node.Outputs.Count == 0)
                throw Mismatch(node, $"{expected} ({opType})", $"{node.OpType}{(node.Domain.Length > 0 ? $" of domain '{node.Domain}'" : "")}");
            return node;
        }

        private OnnxNodeInfo SingleUserOrThrow(string value, string expected)
        {
            var users = consumers.GetValueOrDefault(value) ?? [];
            return users.Count switch
            {
                1 => users[0],
                0 => throw Error($"expected {expected} after the value '{value}', which no node uses"),
                _ => throw Mismatch(users[0], $"{expected}, the only user of '{value}'", $"{users.Count} users: {string.Join("; ", users)}"),
            };
        }

        private OnnxNodeInfo? SingleUser(string value) => consumers.GetValueOrDefault(value) is [var only] ? only : null;

        /// <summary>A Conv's output after its BatchNormalization, when one follows.</summary>
        private (OnnxNodeInfo? Norm, string Output) AfterNorm(OnnxNodeInfo conv) =>
            SingleUser(conv.Outputs[0]) is { OpType: "BatchNormalization" } bn ? (bn, bn.Outputs[0]) : (null, conv.Outputs[0]);

        private OnnxInitializer Initializer(OnnxNodeInfo node, int input, string key) =>
            node.Inputs.Count > input
                ? Initializer(node, node.Inputs[input], key)
                : throw Mismatch(node, $"{key} as input {input}", $"{node.Inputs.Count} inputs");

        private OnnxInitializer Initializer(OnnxNodeInfo node, string name, string key) =>
            model.Initializers.TryGetValue(name, out var initializer)
                ? initializer
                : throw Mismatch(node, $"{key} stored as an initializer", $"'{name}', which is computed by the graph (only initializers are imported)");

        private float[] Vector(OnnxNodeInfo node, string name, long length, string key)
        {
            var initializer = Initializer(node, name, key);
            if (initializer.Dims.Count != 1 || initializer.Dims[0] != length)
                throw Mismatch(node, $"{key} of {length} values", $"initializer '{name}' of dims [{string.Join(", ", initializer.Dims)}]");
            return initializer.ToFloats();
        }

        /// <summary>Refuses a graph with convolutions, norms or linear layers the walk did not map (a second branch, a side output).</summary>
        private void CheckEverythingMapped()
        {
            var left = model.Nodes.FirstOrDefault(n => !visited.Contains(n.Index) && n.OpType is "Conv" or "BatchNormalization" or "Gemm" or "MatMul" or "ConvTranspose");
            if (left is not null)
                throw Mismatch(left, "no layer outside the ResNet's stem, blocks and classifier", $"a {left.OpType} the walk from the input did not reach as part of the ResNet");
        }

        private InvalidDataException Mismatch(OnnxNodeInfo node, string expected, string got) =>
            Error($"{node} does not fit torchvision's ResNet: expected {expected}; got {got}");

        private InvalidDataException Error(string message) => new($"{model.Source}: {message}.");

        private static float[] Filled(long length, float value)
        {
            var values = new float[length];
            Array.Fill(values, value);
            return values;
        }

        private static float[] Transpose(float[] values, long rows, long columns)
        {
            var result = new float[values.Length];
            for (long r = 0; r < rows; r++)
            {
                for (long c = 0; c < columns; c++)
                    result[c * rows + r] = values[r * columns + c];
            }
            return result;
        }

        private static NamedTensor Float32(string key, long[] shape, float[] values) =>
            new(key, ScalarType.Float32, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
    }
}
