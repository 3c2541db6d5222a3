using ResNet.MLNet.Data;
using ResNet.MLNet.Explain;
using ResNet.MLNet.Models;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.Explain;

public class GradCamTests
{
    private static ResNetModel Network(string name, int classes = 5, int inChannels = 3) =>
        ResNetModels.Build(ResNetModels.Options(name) with { NumClasses = classes, InChannels = inChannels }, seed: 7);

    private static ImageTensor RandomImage(int channels, int size, int seed)
    {
        var random = new Random(seed);
        return new ImageTensor(channels, size, size, Enumerable.Range(0, channels * size * size).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray());
    }

    [Fact]
    public void At_the_last_stage_it_equals_the_class_activation_map_of_the_linear_head()
    {
        using var model = Network("resnet18");
        var image = RandomImage(3, 96, seed: 1);
        var cam = GradCam.Compute(model, image, classIndex: 3);

        // CAM (Zhou et al.): the head's weights for the class over the last feature map; Grad-CAM's channel weights are
        // these divided by the map's area, so both normalize to the same heatmap.
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.eval();
        var x = tensor(image.ToArray(), [1, 3, 96, 96]);
        var features = model.ForwardFeatures(x);                                  // (1, 512, 3, 3)
        var weights = model.named_parameters().Single(p => p.name == "fc.weight").parameter[3].reshape(1, -1, 1, 1);
        var map = (weights * features).sum(1, keepdim: true).relu();
        var up = nn.functional.interpolate(map, [96, 96], mode: InterpolationMode.Bilinear, align_corners: false);
        var expected = (up / up.max()).data<float>().ToArray();

        Assert.Equal(3, cam.ClassIndex);
        Assert.Equal(3, cam.Stage);
        Assert.Equal(96 * 96, cam.Heatmap.Length);
        Assert.True(cam.Heatmap.Max() > 0.999f);
        float worst = expected.Zip(cam.Heatmap, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst < 1e-4f, $"Grad-CAM differs from CAM by {worst}");
    }

    [Fact]
    public void It_explains_the_predicted_class_by_default_and_leaves_the_network_as_it_was()
    {
        using var model = Network("resnet18");
        model.train();
        var image = RandomImage(3, 64, seed: 2);
        var cam = GradCam.Compute(model, image);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.eval();
        var probabilities = model.forward(tensor(image.ToArray(), [1, 3, 64, 64])).softmax(1).data<float>().ToArray();
        Assert.Equal(Array.IndexOf(probabilities, probabilities.Max()), cam.ClassIndex);
        for (int i = 0; i < probabilities.Length; i++)
            Assert.Equal(probabilities[i], cam.Probabilities[i], 1e-5f);

        model.train();
        GradCam.Compute(model, image);
        Assert.True(model.training);
        Assert.All(model.parameters(), p =>
        {
            Assert.True(p.requires_grad);
            Assert.True(p.grad is null || p.grad.abs().max().item<float>() == 0);
        });
    }

    [Theory]
    [InlineData("resnet50", 3, 64)]
    [InlineData("cifar_resnet20", 1, 32)]
    [InlineData("preact_resnet18", 3, 64)]
    public void Every_stage_gives_a_heatmap_in_0_1_at_the_input_size(string arch, int channels, int size)
    {
        using var model = Network(arch, inChannels: channels);
        var image = RandomImage(channels, size, seed: 3);
        for (int stage = 0; stage < model.NumStages; stage++)
        {
            var cam = GradCam.Compute(model, image, classIndex: 1, stage: stage);
            Assert.Equal(stage, cam.Stage);
            Assert.Equal(size * size, cam.Heatmap.Length);
            Assert.All(cam.Heatmap, v => Assert.InRange(v, 0f, 1f));
            float max = cam.Heatmap.Max();
            Assert.True(max == 0 || Math.Abs(max - 1) < 1e-6, $"stage {stage}: max {max}");
        }
    }

    [Fact]
    public void Bad_requests_name_the_valid_range()
    {
        using var model = Network("resnet18");
        var image = RandomImage(3, 64, seed: 4);
        var badClass = Assert.Throws<ArgumentOutOfRangeException>(() => GradCam.Compute(model, image, classIndex: 5));
        Assert.Contains("classes 0 to 4", badClass.Message);
        var badStage = Assert.Throws<ArgumentOutOfRangeException>(() => GradCam.Compute(model, image, stage: 4));
        Assert.Contains("stages 0 to 3", badStage.Message);
        var grey = Assert.Throws<ArgumentException>(() => GradCam.Compute(model, RandomImage(1, 64, seed: 5)));
        Assert.Contains("1 channel(s)", grey.Message);
        model.ResetClassifier(0);
        Assert.Throws<ArgumentException>(() => GradCam.Compute(model, image));
    }

    [Fact]
    public void Overlay_blends_the_colour_map_over_the_image()
    {
        var grey = new ImageTensor(1, 1, 2, [0.2f, 0.8f]);
        var cam = new GradCamResult(0, [1f], 0, [0f, 1f], 1, 2);
        var unchanged = GradCam.Overlay(grey, cam, opacity: 0);
        Assert.Equal(new[] { 0.2f, 0.8f, 0.2f, 0.8f, 0.2f, 0.8f }, unchanged.ToArray());

        var full = GradCam.Overlay(grey, cam, opacity: 1).ToArray(); // planes R, G, B; pixel 0 cold (blue), pixel 1 hot (red)
        Assert.True(full[4] > full[0] && full[4] > full[2], "a relevance of 0 is blue");
        Assert.True(full[1] > full[3] && full[1] > full[5], "a relevance of 1 is red");
        Assert.Throws<ArgumentException>(() => GradCam.Overlay(new ImageTensor(3, 2, 2, new float[12]), cam));
        Assert.Throws<ArgumentException>(() => GradCam.Overlay(grey, cam, opacity: 1.5f));
    }
}
