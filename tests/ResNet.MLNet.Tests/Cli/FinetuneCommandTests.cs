using System.Text.Json;
using ResNet.MLNet.Tests.TestSupport;
using ResNet.MLNet.Training;

namespace ResNet.MLNet.Tests.Cli;

public class FinetuneCommandTests
{
    [Fact]
    public void Finetune_streams_the_images_when_asked_and_says_so()
    {
        string outDir = Path.Combine(Path.GetTempPath(), $"finetune-{Guid.NewGuid():N}");
        try
        {
            var (code, output, error) = CliRunner.Run("finetune", "--data", Repo.SampleData, "--arch", "cifar_resnet20", "--image-size", "28",
                "--epochs", "1", "--batch-size", "32", "--out", outDir, "--cache-images", "false", "--workers", "2");
            Assert.True(code == 0, error + output);
            Assert.Contains("data: streaming the image files with 2 decode workers (CacheDecodedImages = false)", output);
            Assert.True(File.Exists(Path.Combine(outDir, "model.zip")));
        }
        finally
        {
            if (Directory.Exists(outDir))
                Directory.Delete(outDir, recursive: true);
        }
    }

    [Fact]
    public void Finetune_trains_any_architecture_the_zoo_parses_not_only_the_named_ones()
    {
        using var temp = new TempDirectory();
        string outDir = temp.File("out");
        // cifar_resnet8 has no ResNetArchitecture member: the name parses to options, which the estimator takes as they are.
        var (code, output, error) = CliRunner.Run("finetune", "--data", Repo.SampleData, "--arch", "cifar_resnet8", "--image-size", "16",
            "--epochs", "1", "--batch-size", "64", "--bf16", "auto", "--out", outDir);
        Assert.True(code == 0, error + output);
        var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json"))).RootElement;
        Assert.Equal("cifar_resnet8", metrics.GetProperty("arch").GetString());
        // --bf16 auto: bfloat16 where the CPU computes it natively, float32 elsewhere, and the run says which.
        string precision = metrics.GetProperty("precision").GetString()!;
        Assert.Equal(BFloat16Support.IsNativeOnCpu, precision.StartsWith("bfloat16 mixed precision, native", StringComparison.Ordinal));
        if (!BFloat16Support.IsNativeOnCpu)
            Assert.Equal("float32", precision);
        Assert.Contains($"precision: {precision.Split(',')[0]}", output);
    }

    [Fact]
    public void Finetune_writes_the_model_metrics_and_curves_and_evaluate_agrees()
    {
        string outDir = Path.Combine(Path.GetTempPath(), $"finetune-{Guid.NewGuid():N}");
        try
        {
            var (code, output, error) = CliRunner.Run("finetune", "--data", Repo.SampleData, "--arch", "cifar_resnet20", "--image-size", "28",
                "--epochs", "2", "--freeze-epochs", "1", "--batch-size", "32", "--lr", "0.003", "--out", outDir);
            Assert.True(code == 0, error + output);
            foreach (string file in new[] { "model.zip", "model.onnx", "weights.safetensors", "metrics.json", "training-curves.png", "confusion-matrix.png", "classes.txt" })
                Assert.True(File.Exists(Path.Combine(outDir, file)), $"{file} missing");
            Assert.Contains("confusion matrix", output);
            Assert.Contains("data: decoding into memory; 500 images at 28x28x3", output); // training and test rows, far within the 2 GiB budget
            // Redirected output: one line per epoch, the test split's accuracy included, and no repeated bar frames.
            var epochLines = output.Split('\n').Where(l => l.StartsWith("epoch ", StringComparison.Ordinal)).ToList();
            Assert.Equal(2, epochLines.Count);
            Assert.All(epochLines, l => Assert.Contains("test acc", l));
            Assert.DoesNotContain(output.Split('\n'), l => l.TrimStart().StartsWith("epochs", StringComparison.Ordinal) || l.TrimStart().StartsWith("steps", StringComparison.Ordinal));

            var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json"))).RootElement;
            double accuracy = metrics.GetProperty("accuracy").GetDouble();
            Assert.Equal(2, metrics.GetProperty("epochs").GetArrayLength());
            Assert.Equal(10, metrics.GetProperty("per_class").GetArrayLength());
            Assert.Equal(10, metrics.GetProperty("confusion_matrix").GetArrayLength());
            Assert.True(metrics.GetProperty("log_loss").GetDouble() > 0);

            var (evalCode, evalOutput, evalError) = CliRunner.Run("evaluate", "--model", Path.Combine(outDir, "model.zip"), "--data", Repo.SampleData, "--json");
            Assert.True(evalCode == 0, evalError);
            Assert.Equal(accuracy, JsonDocument.Parse(evalOutput).RootElement.GetProperty("accuracy").GetDouble(), tolerance: 1e-6);

            // The weights carry architecture, input size and class names: predict needs neither --arch nor --labels, and agrees with model.zip.
            string image = Directory.EnumerateFiles(Path.Combine(Repo.SampleData, "test", "bag")).Order().First();
            var (fromWeights, weightsJson, weightsError) = CliRunner.Run("predict", "--weights", Path.Combine(outDir, "weights.safetensors"), "--image", image, "--json");
            Assert.True(fromWeights == 0, weightsError);
            var (fromModel, modelJson, modelError) = CliRunner.Run("predict", "--model", Path.Combine(outDir, "model.zip"), "--image", image, "--json");
            Assert.True(fromModel == 0, modelError);
            var top = JsonDocument.Parse(weightsJson).RootElement.GetProperty("top")[0];
            var saved = JsonDocument.Parse(modelJson).RootElement;
            Assert.Equal(saved.GetProperty("predicted_label").GetString(), top.GetProperty("label").GetString());
            Assert.Equal(saved.GetProperty("top")[0].GetProperty("score").GetDouble(), top.GetProperty("probability").GetDouble(), tolerance: 1e-3);

            // Test-time augmentation with the weights; refused with --model, whose preprocessing is its own.
            var (ttaCode, ttaJson, ttaError) = CliRunner.Run("predict", "--weights", Path.Combine(outDir, "weights.safetensors"), "--image", image, "--tta", "--json");
            Assert.True(ttaCode == 0, ttaError);
            Assert.Equal(5, JsonDocument.Parse(ttaJson).RootElement.GetProperty("top").GetArrayLength());
            var (ttaModel, _, ttaModelError) = CliRunner.Run("predict", "--model", Path.Combine(outDir, "model.zip"), "--image", image, "--tta");
            Assert.Equal(1, ttaModel);
            Assert.Contains("--tta", ttaModelError);

            // Grad-CAM of the saved model's prediction, from the run's weights next to model.zip: the crop beside its overlay.
            string explanation = Path.Combine(outDir, "explain", "bag.png");
            var (explainCode, explainJson, explainError) = CliRunner.Run("predict", "--model", Path.Combine(outDir, "model.zip"), "--image", image, "--explain", explanation, "--json");
            Assert.True(explainCode == 0, explainError);
            Assert.Equal(explanation, JsonDocument.Parse(explainJson).RootElement.GetProperty("explanation").GetString());
            using (var picture = SkiaSharp.SKBitmap.Decode(explanation))
            {
                Assert.True(picture.Height >= 224, $"the picture is {picture.Width}x{picture.Height}: too small to read");
                Assert.Equal(2 * picture.Height + 8, picture.Width);
            }
            // fastai's interpretation as files, from the same run.
            string interpretDir = Path.Combine(outDir, "interpret");
            var (interpretCode, interpretOutput, interpretError) = CliRunner.Run("interpret", "--model", outDir, "--data", Repo.SampleData, "--top", "4", "--out", interpretDir);
            Assert.True(interpretCode == 0, interpretError);
            Assert.Contains("100 images, accuracy", interpretOutput);
            foreach (string file in new[] { "top-losses.png", "confusion-matrix.png" })
                using (var png = SkiaSharp.SKBitmap.Decode(Path.Combine(interpretDir, file)))
                    Assert.True(png.Width > 300, $"{file} is {png.Width} wide");
            var confused = File.ReadAllLines(Path.Combine(interpretDir, "most-confused.txt"));
            Assert.Equal("actual\tpredicted\timages", confused[0]);
            Assert.All(confused.Skip(1), l => Assert.Equal(3, l.Split('\t').Length));

            File.Move(Path.Combine(outDir, "weights.safetensors"), Path.Combine(outDir, "weights.moved"));
            var (noWeights, _, noWeightsError) = CliRunner.Run("predict", "--model", Path.Combine(outDir, "model.zip"), "--image", image, "--explain", explanation);
            Assert.Equal(1, noWeights);
            Assert.Contains("weights.safetensors' does not exist", noWeightsError);
            var (noWeightsInterpret, _, noWeightsInterpretError) = CliRunner.Run("interpret", "--model", outDir, "--data", Repo.SampleData, "--out", interpretDir);
            Assert.Equal(1, noWeightsInterpret);
            Assert.Contains("weights.safetensors' does not exist", noWeightsInterpretError);
            File.Move(Path.Combine(outDir, "weights.moved"), Path.Combine(outDir, "weights.safetensors"));

            // An existing output directory is never overwritten by accident.
            var (again, againOutput, againError) = CliRunner.Run("finetune", "--data", Repo.SampleData, "--arch", "cifar_resnet20", "--out", outDir);
            Assert.Equal(1, again);
            Assert.DoesNotContain("Fine-tuning", againOutput); // refused before the job is announced
            Assert.Contains("--resume", againError);
            Assert.Contains("--force", againError);
        }
        finally
        {
            if (Directory.Exists(outDir))
                Directory.Delete(outDir, recursive: true);
        }
    }

    [Fact]
    public void Lr_find_prints_a_suggestion_and_draws_the_curve()
    {
        using var dir = new TempDirectory();
        string png = Path.Combine(dir.Path, "lr.png");
        var (code, output, error) = CliRunner.Run("lr-find", "--data", Repo.SampleData, "--arch", "cifar_resnet20", "--image-size", "28", "--steps", "25", "--out", png);
        Assert.True(code == 0, error + output);
        Assert.Matches(@"Suggested learning rate: [0-9.E+-]+ \(steepest descent\)", output);
        using var picture = SkiaSharp.SKBitmap.Decode(png);
        Assert.True(picture.Width >= 600, $"lr.png is {picture.Width} wide");

        // Streamed from the files, the sweep runs the same way.
        var (streamed, streamedOutput, streamedError) = CliRunner.Run("lr-find", "--data", Repo.SampleData, "--arch", "cifar_resnet20", "--image-size", "28",
            "--steps", "25", "--out", png, "--cache-images", "false");
        Assert.True(streamed == 0, streamedError + streamedOutput);
        Assert.Matches(@"Suggested learning rate: [0-9.E+-]+ \(steepest descent\)", streamedOutput);

        var (tooFew, _, tooFewError) = CliRunner.Run("lr-find", "--data", Repo.SampleData, "--arch", "cifar_resnet20", "--image-size", "28", "--batch-size", "1000", "--out", png);
        Assert.Equal(1, tooFew);
        Assert.Contains("at least one full batch", tooFewError);
    }

    [Fact]
    public void Bad_folders_fail_with_a_clear_message()
    {
        var (code, _, error) = CliRunner.Run("finetune", "--data", "/nonexistent/images", "--out", Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString()));
        Assert.Equal(1, code);
        Assert.Contains("'/nonexistent/images' does not exist", error);

        string dir = Directory.CreateTempSubdirectory("one-class").FullName;
        try
        {
            string cls = Directory.CreateDirectory(Path.Combine(dir, "only")).FullName;
            File.Copy(Directory.GetFiles(Path.Combine(Repo.SampleData, "test", "bag"))[0], Path.Combine(cls, "a.png"));
            Directory.CreateDirectory(Path.Combine(dir, "empty"));
            var (emptyCode, _, emptyError) = CliRunner.Run("finetune", "--data", dir, "--out", dir + "-out"); // outside the data folder: an output inside it is refused
            Assert.Equal(1, emptyCode);
            Assert.Contains("'empty'", emptyError);
            Assert.Contains("hold no images", emptyError);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
