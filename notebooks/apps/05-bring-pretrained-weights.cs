// The code of notebooks/05-bring-pretrained-weights.ipynb as a C# file-based app (.NET 10): dotnet run notebooks/apps/05-bring-pretrained-weights.cs
// Generated from the notebook by tests/ResNet.MLNet.Tests/Notebooks/NotebookApp.cs: edit the notebook, then regenerate with
//   RESNET_MLNET_UPDATE_APPS=1 dotnet test tests/ResNet.MLNet.Tests --filter "FullyQualifiedName~NotebookFormatTests"
// Set RESNET_MLNET_QUICK=1 for the quick mode. Pack the library into the local feed first (see notebooks/README.md).
#:package ResNet.MLNet@0.1.0
#:package ResNet.MLNet.Interactive@0.1.0
#:package TorchSharp@0.107.0
#:package libtorch-cpu-linux-x64@2.10.0
#:package Microsoft.ML.ImageAnalytics@6.0.0
#:package Microsoft.ML.OnnxRuntime@1.32.0
#:property RestoreAdditionalProjectSources=../../artifacts/packages
#:property PublishAot=false
#:property NoWarn=$(NoWarn);NU1603

using System.Diagnostics;
using System.IO;
using System.Text.Json;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using OnnxTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using ResNet.MLNet;
using ResNet.MLNet.Interactive;
using ResNet.MLNet.Models;
using ResNet.MLNet.Onnx;
using ResNet.MLNet.Weights;
using static TorchSharp.torch;

// The notebook runs in its own folder: so does the app, wherever it is started from.
Directory.SetCurrentDirectory(Path.GetDirectoryName((string)AppContext.GetData("EntryPointFileDirectoryPath")!)!);

// # 5. Bring pretrained weights: inspect, load, check, predict, export to ONNX
//
// Transfer learning starts from somebody else's weights, usually a PyTorch checkpoint: torchvision's `resnet50-0676ba61.pth`,
// a timm `.safetensors` file, or a `.pth` your colleagues trained. This notebook walks through what the toolkit does with
// such a file, in C# only (no Python, and reading never runs code from the file):
//
// 1. **inspect** it: format, tensors, parameter count (`WeightsFile.Read`);
// 2. **recognize** the architecture from the keys and shapes (`ArchitectureDetector`);
// 3. **load** it strictly and read the report (`WeightsLoader`), including what transfer learning changes: a new head,
//    another number of input channels;
// 4. **check** that our network computes what PyTorch computed with the same weights;
// 5. **write** weights back as `.safetensors` (with metadata) and `.pth`;
// 6. **predict** an image, then **export** to ONNX and run the same prediction with ONNX Runtime.
//
// **No real pretrained weights here.** ImageNet checkpoints cannot be downloaded where these notebooks are tested, and the
// repository ships none. So this notebook uses a checkpoint that *real PyTorch wrote*: the test fixture
// `tests/ResNet.MLNet.Tests/Fixtures/weights/cifar_resnet20.pth`, made by `torch.save(model.state_dict())` in PyTorch 1.13
// for the paper's CIFAR ResNet-20 (random weights, BatchNorm statistics calibrated on random data), together with the logits
// PyTorch computed for a fixed input. Everything below works unchanged on torchvision's ImageNet files; only the numbers
// differ, and the predictions of untrained weights mean nothing, as said again where it matters.
//
// **Quick mode** (`RESNET_MLNET_QUICK=1`, set by the test suite) changes nothing here but the number of timing
// repetitions at the end: the notebook takes seconds either way.

// ## 1. Inspect the file
//
// `WeightsFile.Read` recognizes the format by its first bytes (a `torch.save` zip, the legacy pickle format, safetensors,
// or TorchSharp's own) and returns every tensor with its name, type and shape, in the file's order. PyTorch pickles are read
// with an allowlist, as `torch.load(weights_only=True)` does: a file that asks to run code is refused.

bool quick = Environment.GetEnvironmentVariable("RESNET_MLNET_QUICK") == "1";
Directory.CreateDirectory("output");
string checkpoint = Path.GetFullPath("../tests/ResNet.MLNet.Tests/Fixtures/weights/cifar_resnet20.pth");

var content = WeightsFile.Read(checkpoint);
display(new { File = Path.GetFileName(checkpoint), content.Format, Tensors = content.Tensors.Count, Parameters = content.ParameterCount, Megabytes = Math.Round(content.ByteCount / 1e6, 2) });
display(content.Tensors.Take(8).Select(t => new { t.Name, Type = t.DTypeName, Shape = string.Join(" x ", t.Shape) }));

// ## 2. Recognize the architecture
//
// `ArchitectureDetector.Rank` compares the file's keys and shapes with every network of the zoo that has the same number
// of blocks per stage, taking the class count from the classifier and the input channels from the first convolution.
// An *exact* match means every key and every shape agrees.

var ranking = ArchitectureDetector.Rank(content.Tensors);
display(ranking.Take(4).Select(m => new { m.Name, m.IsExact, Score = Math.Round(m.Score, 3), m.NumClasses, m.InChannels }));
var detected = ranking.First(m => m.IsExact);
display($"Detected: {detected}");

// Two exact matches, and rightly so: the paper's CIFAR ResNets use *option A* shortcuts (identity, zero-padded where the
// width doubles), which have no weights, so ResNet-20 and its plain twin have exactly the same state_dict. The file cannot
// tell them apart; its name can. With torchvision's ImageNet files (projection shortcuts, `downsample.*` keys) the match is
// unique.

// ## 3. Load it, and read the report
//
// The default load is strict about the backbone — a missing, unexpected or mis-shaped key fails the load and lists every
// problem at once, and nothing is copied — while allowing the two changes transfer learning needs: a head with another
// class count (left freshly initialized) and another number of input channels (the first convolution adapted as timm does:
// summed over RGB for one channel).

var model = ResNetModels.Build(detected.Architecture, detected.NumClasses, detected.InChannels);
var report = WeightsLoader.Load(model, checkpoint);
display(report);

// The same file loaded for a new task: grayscale images (one input channel) and 4 classes. The report says which tensor
// was adapted and that the head was left as initialized — the part you then train.

var grayscale = ResNetModels.Build(detected.Architecture, numClasses: 4, inChannels: 1);
display(WeightsLoader.Load(grayscale, checkpoint));

// And a file that does not fit: the same weights offered to a deeper network. The strict load refuses, lists every problem,
// and leaves the model untouched.

var deeper = ResNetModels.CifarResNet(32);
try
{
    WeightsLoader.Load(deeper, checkpoint);
}
catch (WeightsMismatchException e)
{
    display(e.Report);
    Console.WriteLine(e.Message.Split('\n')[0]);
}

// ## 4. Same weights, same logits as PyTorch
//
// When the fixture was made, PyTorch also ran the network on a fixed batch of two 32x32 inputs and saved the logits. Our
// network, with the weights just loaded, must reproduce them up to float rounding.

var reference = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(checkpoint, ".json")));
float[] Floats(string name) => reference.RootElement.GetProperty(name).EnumerateArray().Select(v => v.GetSingle()).ToArray();
long[] Shape(string name) => reference.RootElement.GetProperty(name).EnumerateArray().Select(v => v.GetInt64()).ToArray();

model.eval();
var referenceInput = tensor(Floats("input"), Shape("input_shape"));
var pytorchLogits = tensor(Floats("logits"), Shape("logits_shape"));
using (no_grad())
{
    using var ourLogits = model.forward(referenceInput);
    double difference = (ourLogits - pytorchLogits).abs().max().item<float>();
    double scale = pytorchLogits.abs().max().item<float>();
    display(new { Inputs = referenceInput.shape[0], LargestLogit = scale, LargestDifference = difference, Relative = difference / scale });
    if (difference > 1e-4 * scale)
        throw new InvalidOperationException($"Logits differ from PyTorch's by {difference}.");
}

// ## 5. Write weights: safetensors with metadata, and .pth
//
// `WeightsFile.Write` chooses the format by extension. Only safetensors has room for metadata; the toolkit records the
// architecture, the classes and the preprocessing there (`WeightsMetadata`), so whoever loads the file knows how to feed it.
// Both files read back to exactly the same tensors.

var tensors = NamedTensor.FromModel(model);
var metadata = new WeightsMetadata
{
    Architecture = detected.Name,
    NumClasses = detected.NumClasses,
    Input = new ImageModelInput { ImageSize = 32, Mean = [0.4914f, 0.4822f, 0.4465f], Std = [0.2470f, 0.2435f, 0.2616f] },
};
string safetensorsPath = Path.GetFullPath("output/cifar_resnet20.safetensors");
string pthPath = Path.GetFullPath("output/cifar_resnet20-copy.pth");
WeightsFile.Write(safetensorsPath, tensors, metadata.ToDictionary());
WeightsFile.Write(pthPath, tensors);

foreach (string path in new[] { safetensorsPath, pthPath })
{
    var written = WeightsFile.Read(path);
    bool same = written.Tensors.Count == tensors.Count && written.Tensors.Zip(tensors).All(pair =>
        pair.First.Name == pair.Second.Name && pair.First.Shape.SequenceEqual(pair.Second.Shape) && pair.First.Data.Span.SequenceEqual(pair.Second.Data.Span));
    display(new { File = Path.GetFileName(path), written.Format, Tensors = written.Tensors.Count, Kilobytes = new FileInfo(path).Length / 1024, SameTensors = same });
    if (!same)
        throw new InvalidOperationException($"{path} does not read back to the tensors written.");
}
display(WeightsMetadata.FromDictionary(WeightsFile.Read(safetensorsPath).Metadata));

// ## 6. Predict an image, then the same with ONNX Runtime
//
// An image goes through the same steps as in training: decode, resize to the network's input (32x32 here), scale to [0, 1],
// normalize per channel. The image is a Fashion-MNIST ankle boot from the bundled data, made RGB by repeating its gray
// channel. **The weights are untrained, so the predicted class means nothing**: what matters is the path from a PNG file to
// class probabilities, and that ONNX Runtime, given the exported graph, gives the same probabilities.

string[] cifarClasses = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];
string imagePath = Path.GetFullPath("../data/fashion-mnist/test/ankle_boot/00000.png");

Tensor Preprocess(string path, IReadOnlyList<float> mean, IReadOnlyList<float> std)
{
    using var image = MLImage.CreateFromFile(path);
    int channelsPerPixel = image.Pixels.Length / (image.Width * image.Height);
    var gray = new float[image.Width * image.Height];
    for (int p = 0; p < gray.Length; p++)
        gray[p] = image.Pixels[p * channelsPerPixel] / 255f; // a grayscale PNG decodes with equal colour channels
    using var scope = NewDisposeScope();
    var x = tensor(gray, [1, 1, image.Height, image.Width]);
    x = nn.functional.interpolate(x, size: [32, 32], mode: InterpolationMode.Bilinear, align_corners: false).repeat(1, 3, 1, 1);
    x = (x - tensor(mean.ToArray()).view(1, 3, 1, 1)) / tensor(std.ToArray()).view(1, 3, 1, 1);
    return x.MoveToOuterDisposeScope();
}

var input = Preprocess(imagePath, metadata.Input!.Mean, metadata.Input.Std);
float[] torchProbabilities;
using (no_grad())
    torchProbabilities = model.forward(input).softmax(1).data<float>().ToArray();
display(torchProbabilities.Select((p, c) => new { Class = cifarClasses[c], Probability = Math.Round(p, 4) }).OrderByDescending(r => r.Probability).Take(3));

// The export writes the network as an ONNX graph (opset 17) with BatchNorm folded into the convolutions; here with a
// softmax output and the input fixed at one 32x32 image. The normalization stays outside the graph
// (`Normalization = null`), so ONNX Runtime gets exactly the tensor TorchSharp got.

string onnxPath = Path.GetFullPath("output/cifar_resnet20.onnx");
ResNetOnnx.Export(model, onnxPath, new OnnxExportOptions
{
    Output = ResNetOutputKind.Probabilities,
    Normalization = null,
    ImageHeight = 32,
    ImageWidth = 32,
});

var session = new InferenceSession(onnxPath);
var onnxInput = new OnnxTensor(input.data<float>().ToArray(), [1, 3, 32, 32]);
float[] onnxProbabilities;
using (var results = session.Run([NamedOnnxValue.CreateFromTensor("input", onnxInput)]))
    onnxProbabilities = results.First().AsEnumerable<float>().ToArray();

double largest = onnxProbabilities.Zip(torchProbabilities).Max(pair => Math.Abs(pair.First - pair.Second));
display(new { OnnxFile = Path.GetFileName(onnxPath), Kilobytes = new FileInfo(onnxPath).Length / 1024, SameClass = Array.IndexOf(onnxProbabilities, onnxProbabilities.Max()) == Array.IndexOf(torchProbabilities, torchProbabilities.Max()), LargestDifference = largest });
if (largest > 1e-4)
    throw new InvalidOperationException($"ONNX Runtime's probabilities differ from TorchSharp's by {largest}.");

// Median milliseconds of one call: robust to the pauses of a busy machine.
double MedianMilliseconds(Action call, int repetitions)
{
    var times = new List<double>();
    for (int i = 0; i < repetitions; i++)
    {
        var watch = Stopwatch.StartNew();
        call();
        times.Add(watch.Elapsed.TotalMilliseconds);
    }
    return times.Order().ElementAt(repetitions / 2);
}

int repetitions = quick ? 21 : 201;
double onnxMs = MedianMilliseconds(() => session.Run([NamedOnnxValue.CreateFromTensor("input", onnxInput)]).Dispose(), repetitions);
double torchMs;
using (no_grad())
    torchMs = MedianMilliseconds(() => model.forward(input).Dispose(), repetitions);
display(new { OneImage = "median of " + repetitions, OnnxRuntimeMilliseconds = Math.Round(onnxMs, 2), TorchSharpMilliseconds = Math.Round(torchMs, 2) });

// For one small image, ONNX Runtime's optimized graph is much faster than TorchSharp's eager execution (the table above has
// this run's medians; on a machine shared with other work they vary from run to run). That is why the featurizer runs ONNX
// Runtime by default, and why a saved ML.NET model carries the ONNX graph rather than TorchSharp.
//
// ## With real weights
//
// For torchvision's ImageNet ResNet-50 the same calls apply: `WeightsFile.Read("resnet50-0676ba61.pth")`, the detector
// answers `resnet50 (1000 classes, 3 input channels)`, and `WeightsLoader.Load` reports every tensor loaded. From there,
// `mlContext.Transforms.ResNetFeaturizer(... weightsPath: ...)` (notebook 1) or fine-tuning (notebook 2) take the file
// directly, and the featurizer's saved ML.NET model carries the ONNX graph, so it scores without this library.

// What display(value) shows in the notebook, printed as text here; charts and pictures are saved under output/.
static void display(object? value) => ResNet.MLNet.Interactive.ConsoleDisplay.Show(value);
