// The code of notebooks/06-interpret-and-explain.ipynb as a C# file-based app (.NET 10): dotnet run notebooks/apps/06-interpret-and-explain.cs
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
using ResNet.MLNet.Explain;
using ResNet.MLNet.Interactive;
using ResNet.MLNet.Models;
using ResNet.MLNet.Training;

// The notebook runs in its own folder: so does the app, wherever it is started from.
Directory.SetCurrentDirectory(Path.GetDirectoryName((string)AppContext.GetData("EntryPointFileDirectoryPath")!)!);

// # 6. Interpret and explain: learning-rate finder, top losses, Grad-CAM
//
// After a first training run, fastai users ask three things: which learning rate to use (`lr_find`), where the model goes
// wrong (`ClassificationInterpretation`: top losses, most confused classes), and what in the image it looks at
// (Grad-CAM). This notebook does all three on the bundled Fashion-MNIST sample with a small CIFAR-style ResNet-20, the
// way the `lr-find` and `interpret` commands do.

// ## The learning-rate finder
//
// One batch per learning rate, from 1e-7 upwards exponentially, until the smoothed loss explodes (Smith 2015); then the
// weights are put back. The suggestion is the rate where the loss falls fastest.
// Quick mode (`RESNET_MLNET_QUICK=1`, as the tests run every notebook) uses 28-pixel images, 20 finder steps, 2 epochs
// and 4 top losses; the full run 32 pixels, 100 steps, 10 epochs and 9.

bool quick = Environment.GetEnvironmentVariable("RESNET_MLNET_QUICK") == "1";
int imageSize = quick ? 28 : 32;
string dataFolder = Path.GetFullPath("../data/fashion-mnist");
var train = ImageFolderDataset.Load(dataFolder, size: imageSize, channels: 1, new ImageFolderOptions { Split = "train" });
var input = new ImageModelInput { ImageSize = imageSize, Channels = 1, Mean = [0.286f], Std = [0.353f], ClassNames = train.ClassNames };

var model = ResNetModels.Build(ResNetModels.Options("cifar_resnet20") with { NumClasses = train.NumClasses, InChannels = 1 }, seed: 0);
var options = new TrainingOptions { Epochs = quick ? 2 : 10, BatchSize = 32, Input = input with { ClassNames = null }, Seed = 1 };
var finding = ResNetTrainer.FindLearningRate(model, train, options, new LearningRateFinderOptions { Steps = quick ? 20 : 100 });
display($"suggested learning rate {finding.Steepest:G2} (steepest descent); a tenth of the minimum's: {finding.MinimumOver10:G2}");

// ## Training with it
//
// The recipe's schedule (one-cycle warm-up and cosine decay) peaks at the suggested rate.

options.LearningRate = (float)finding.Steepest;
var result = ResNetTrainer.Train(model, train, null, options);
display(result);

// ## Where it goes wrong
//
// Every test image is scored; the interpretation sorts them by loss and counts the confusion matrix. The most confused
// pairs are the classes a person confuses too (shirt, T-shirt, pullover, coat).

var rows = ImageFolder.List(dataFolder, new ImageFolderOptions { Split = "test" });
var interpretation = ClassificationInterpretation.Create(model, input, rows);
display($"test accuracy {interpretation.Accuracy:P1}, log-loss {interpretation.MeanLoss:F3}");
display(interpretation.MostConfused(minCount: 2).Take(8).ToList());

// ## Top losses, with Grad-CAM
//
// The images the network got most wrong, each under the Grad-CAM heatmap of what it predicted (red: where the evidence
// for that class lies). `predict --explain` and `serve`'s `?explain=true` draw the same heatmaps.

display(Charts.TopLosses(interpretation, model, input, count: quick ? 4 : 9));
model.Dispose();

// What display(value) shows in the notebook, printed as text here; charts and pictures are saved under output/.
static void display(object? value) => ResNet.MLNet.Interactive.ConsoleDisplay.Show(value);
