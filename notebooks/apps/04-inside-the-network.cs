// The code of notebooks/04-inside-the-network.ipynb as a C# file-based app (.NET 10): dotnet run notebooks/apps/04-inside-the-network.cs
// Generated from the notebook by tests/ResNet.MLNet.Tests/Notebooks/NotebookApp.cs: edit the notebook, then regenerate with
//   RESNET_MLNET_UPDATE_APPS=1 dotnet test tests/ResNet.MLNet.Tests --filter "FullyQualifiedName~NotebookFormatTests"
// Set RESNET_MLNET_QUICK=1 for the quick mode. Pack the library into the local feed first (see notebooks/README.md).
#:package ResNet.MLNet@0.1.0
#:package ResNet.MLNet.Interactive@0.1.0
#:package TorchSharp@0.107.0
#:package libtorch-cpu-linux-x64@2.10.0
#:property RestoreAdditionalProjectSources=../../artifacts/packages
#:property PublishAot=false
#:property NoWarn=$(NoWarn);NU1603

using System.IO;
using ResNet.MLNet;
using ResNet.MLNet.Data;
using ResNet.MLNet.Interactive;
using ResNet.MLNet.Models;
using ResNet.MLNet.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

// The notebook runs in its own folder: so does the app, wherever it is started from.
Directory.SetCurrentDirectory(Path.GetDirectoryName((string)AppContext.GetData("EntryPointFileDirectoryPath")!)!);

// # 4. Inside the network: layer responses and feature maps
//
// Two looks inside trained ResNets.
//
// **Layer responses (the paper's Figure 7).** He et al. argue that residual functions are "generally closer to zero than
// non-residual functions": when a block only has to add a correction to its input, its layers respond weakly. They measure
// it as the standard deviation of each 3x3 layer's output — after BatchNorm, before the ReLU — over the test set, and find
// the responses of ResNets smaller than those of their plain counterparts, and smaller still in deeper ResNets. This
// notebook measures the same thing with forward hooks (`register_forward_hook` on every BatchNorm of the network), on plain
// and residual CIFAR networks trained briefly on the bundled data.
//
// **Feature maps.** Then one test image goes through the residual network stage by stage (`ForwardStages`), and the
// strongest channels of each stage are drawn as pictures: high resolution and local at the first stage, coarse and
// abstract at the last.
//
// **Quick mode** (`RESNET_MLNET_QUICK=1`, set by the test suite): depths 8 and 14, 2 epochs at 16x16 pixels, about a
// minute. Full mode: depths 20 and 56 as in the paper, 5 epochs at 28x28 (under ten minutes on two cores). Both
// are far shorter trainings than the paper's, so compare shapes and orderings, not magnitudes.

// ## Data and a short training
//
// The bundled images are decoded into an `InMemoryImageDataset` (`ImageFolderDataset.Load`, one gray channel), and plain and residual networks of
// two depths are trained with the same recipe and seed (SGD with momentum, cosine schedule, no augmentation).

bool quick = Environment.GetEnvironmentVariable("RESNET_MLNET_QUICK") == "1";
int[] depths = quick ? [8, 14] : [20, 56];
int epochs = quick ? 2 : 5;
int imageSize = quick ? 16 : 28;
float[] mean = [0.286f], std = [0.353f];
string dataFolder = Path.GetFullPath("../data/fashion-mnist");

var train = ImageFolderDataset.Load(dataFolder, size: 28, channels: 1, new ImageFolderOptions { Split = "train" });
var test = ImageFolderDataset.Load(dataFolder, size: 28, channels: 1, new ImageFolderOptions { Split = "test" });

var trained = new List<(string Name, ResNetModel Model)>();
foreach (int depth in depths)
{
    foreach (string kind in new[] { "plain", "resnet" })
    {
        var model = ResNetModels.Build(ResNetModels.Options($"cifar_{kind}{depth}") with { NumClasses = train.NumClasses, InChannels = 1 }, seed: 0);
        var result = ResNetTrainer.Train(model, train, test, new TrainingOptions
        {
            Epochs = epochs,
            Optimizer = OptimizerKind.Sgd,
            LearningRate = 0.1f,
            WeightDecay = 1e-4f,
            Schedule = ScheduleKind.CosineWithWarmup,
            WarmupEpochs = 1,
            Augmentation = Augmentation.None,
            Input = new ImageModelInput { Channels = mean.Length, ImageSize = imageSize, Mean = mean, Std = std },
            Seed = 0,
        });
        string name = (kind == "plain" ? "plain-" : "ResNet-") + depth;
        trained.Add((name, model));
        Console.WriteLine($"{name,-10} test accuracy {result.History[^1].ValidationAccuracy:P0} after {epochs} epochs, {result.History.Sum(e => e.Seconds):F0} s");
    }
}

// ## Layer responses
//
// The test images, preprocessed as in training, go through each network in evaluation mode. A forward hook on every
// BatchNorm layer records the standard deviation of its output; in these networks every BatchNorm follows a 3x3
// convolution, so the list is exactly the paper's "outputs of each 3x3 layer, after BN and before nonlinearity" (the ReLU
// is applied after the hook has run). The first entry is the stem's convolution.

// The test images as the network sees them: scaled to [0, 1], resized, normalized.
Tensor Preprocess(InMemoryImageDataset data)
{
    using var scope = NewDisposeScope();
    var x = data.Images.to_type(ScalarType.Float32).div(255);
    x = nn.functional.interpolate(x, size: [imageSize, imageSize], mode: InterpolationMode.Bilinear, align_corners: false);
    return ((x - mean[0]) / std[0]).MoveToOuterDisposeScope();
}

// Standard deviation of every BatchNorm output, in the order the layers run.
List<double> LayerResponses(ResNetModel model, Tensor images)
{
    var responses = new List<double>();
    var hooks = model.named_modules()
        .Where(m => m.module is BatchNorm2d && !m.name.Contains("downsample"))
        .Select(m => ((BatchNorm2d)m.module).register_forward_hook((_, _, output) =>
        {
            responses.Add(output.std().item<float>());
            return output;
        }))
        .ToList();
    model.eval();
    using (no_grad())
        model.forward(images).Dispose();
    foreach (var hook in hooks)
        hook.remove();
    return responses;
}

var testImages = Preprocess(test);
var responses = trained.Select(t => (t.Name, Std: LayerResponses(t.Model, testImages))).ToList();

display(Charts.SideBySide(
[
    Charts.Lines("layer responses, in network order", "layer index (3x3 convolutions)", "std of the BN output",
        responses.Select(r => new Series(r.Name, r.Std.Select((_, i) => (double)(i + 1)).ToArray(), r.Std))),
    Charts.Lines("layer responses, sorted", "layer rank", "std of the BN output",
        responses.Select(r => new Series(r.Name, r.Std.Select((_, i) => (double)(i + 1)).ToArray(), r.Std.OrderByDescending(v => v).ToArray()))),
], width: 560, height: 380));

display(responses.Select(r => new { Network = r.Name, Layers = r.Std.Count, MeanStd = Math.Round(r.Std.Average(), 3), MedianStd = Math.Round(r.Std.Order().ElementAt(r.Std.Count / 2), 3) }));

// ## Feature maps of one image
//
// A test image goes through the deeper residual network stage by stage. For each stage the picture shows the input and
// the eight channels with the strongest mean activation (after the stage's last ReLU), each coloured over its own range.

var (deepName, deepModel) = trained.Last(t => t.Name.StartsWith("ResNet", StringComparison.Ordinal));
int imageIndex = test.Labels.ToList().IndexOf(test.ClassNames.ToList().IndexOf("ankle_boot"));
var oneImage = testImages.narrow(0, imageIndex, 1);
var inputMap = new FeatureMap("input", imageSize, imageSize, oneImage[0, 0].data<float>().ToArray());

deepModel.eval();
IReadOnlyList<Tensor> stages;
using (no_grad())
    stages = deepModel.ForwardStages(oneImage);
for (int s = 0; s < stages.Count; s++)
{
    var maps = stages[s][0];
    long[] strongest = maps.mean([1, 2]).argsort(descending: true).data<long>().Take(8).ToArray();
    var tiles = strongest.Select(c => new FeatureMap($"channel {c}", (int)maps.shape[1], (int)maps.shape[2], maps[c].data<float>().ToArray()));
    display(Charts.FeatureMaps([inputMap, .. tiles], columns: 9, cellSize: 84,
        title: $"{deepName}, stage {s + 1}: {maps.shape[0]} channels of {maps.shape[1]}x{maps.shape[2]}"));
    stages[s].Dispose();
}

// ## What they show
//
// *What to look for*, from the paper's Figure 7: residual networks' responses are smaller than their plain counterparts',
// and the deeper the residual network, the smaller its responses, because each block only adds a correction.
//
// *What the full-mode run saved here shows* (5 epochs on 400 images, one seed):
//
// - plain-56 hardly trained at all (12% test accuracy, near chance, against 43% for ResNet-56, 51% for plain-20 and 61%
//   for ResNet-20 — the degradation problem of notebook 3, in a single number), and its responses are by far the largest:
//   a standard deviation up to about 14 in its first layers, 3.9 on average;
// - ResNet-56's responses are two to three times smaller than plain-56's, layer by layer; at depth 20 the two kinds are
//   close, the residual one slightly smaller (mean 1.02 against 1.07). This part agrees with Figure 7;
// - the paper's second observation does not appear: ResNet-56's responses (mean 1.52) are larger than ResNet-20's (1.02).
//   The paper measures fully trained networks; these are five epochs in, far from converged, so this is a difference of
//   training length as much as anything.
//
// In the feature maps, the first stage (28x28) still follows the boot's silhouette, its sole and its shaft in different
// channels; the last stage (7x7) keeps only coarse blobs of where the shoe is, the kind of summary the pooled embedding is
// made from.

// What display(value) shows in the notebook, printed as text here; charts and pictures are saved under output/.
static void display(object? value) => ResNet.MLNet.Interactive.ConsoleDisplay.Show(value);
