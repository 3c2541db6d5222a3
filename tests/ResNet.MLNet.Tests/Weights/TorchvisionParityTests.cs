using System.Diagnostics;
using ResNet.MLNet.Models;
using ResNet.MLNet.Tests.TestSupport;
using ResNet.MLNet.Weights;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Weights;

/// <summary>Checkpoints torchvision writes on this machine (random weights, calibrated BatchNorm) load strictly and give its logits.</summary>
public class TorchvisionParityTests(ITestOutputHelper output)
{
    [ReferencePythonFact]
    public void Should_load_torchvision_resnet18_and_resnet50_strictly_and_match_their_logits()
    {
        using var dir = new TempDirectory();
        var watch = Stopwatch.StartNew();
        output.WriteLine(ReferencePython.RunFixtureScript(TimeSpan.FromMinutes(8), "--torchvision", dir.Path).Trim());
        output.WriteLine($"python: {watch.Elapsed.TotalSeconds:F1} s");
        foreach (var architecture in new[] { ResNetArchitecture.ResNet18, ResNetArchitecture.ResNet50 })
        {
            string name = ResNetModels.Name(architecture);
            using var model = ResNetModels.Build(architecture);
            var report = WeightsLoader.Load(model, dir.File($"{name}.pth"), WeightsLoadOptions.Exact);
            Assert.True(report.IsComplete);
            output.WriteLine($"{name}: {report.Loaded.Count} tensors loaded strictly");

            var io = WeightsFile.Read(dir.File($"{name}_io.pth")).Tensors.ToDictionary(t => t.Name);
            model.eval();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var logits = model.forward(io["input"].ToTensor()).data<float>().ToArray();
            WeightsLoaderTests.AssertClose(io["logits"].ToArray<float>(), logits, output);
        }
    }

    [ReferencePythonFact]
    public void Should_write_pth_files_that_torch_loads_with_weights_only()
    {
        using var dir = new TempDirectory();
        string reference = WeightsFixtures.PathOf("cifar_resnet20.pth");
        PthWriter.Write(dir.File("written.pth"), WeightsFile.Read(reference).Tensors);
        output.WriteLine(ReferencePython.RunFixtureScript(TimeSpan.FromMinutes(2), "--check-pth", dir.File("written.pth"), reference).Trim());

        string dtypes = WeightsFixtures.PathOf("dtypes.pth");
        PthWriter.Write(dir.File("dtypes.pth"), WeightsFile.Read(dtypes).Tensors);
        output.WriteLine(ReferencePython.RunFixtureScript(TimeSpan.FromMinutes(2), "--check-pth", dir.File("dtypes.pth"), dtypes).Trim());
    }
}
