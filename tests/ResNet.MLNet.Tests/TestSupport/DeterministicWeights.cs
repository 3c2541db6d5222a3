using ResNet.MLNet.Weights;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.TestSupport;

/// <summary>
/// Fills a model with the weight formulas of the Fixtures/parity scripts (see their docstrings), so the C# and
/// torchvision networks hold identical weights without shipping any.
/// </summary>
internal static class DeterministicWeights
{
    /// <summary>The sinusoid weights of Fixtures/parity/make_parity_fixtures.py.</summary>
    public static void Fill(nn.Module model) =>
        FillEach(model, (key, leaf, tensor) =>
        {
            long n = tensor.numel();
            var s = sin(arange(n, dtype: ScalarType.Float64) * 0.37 + Phase(key)).reshape(tensor.shape);
            return leaf switch
            {
                "running_var" => 1 + 0.5 * (s + 1),
                "running_mean" => 0.1 * s,
                "weight" when tensor.dim() == 1 => 1 + 0.1 * s,
                "bias" => 0.1 * s,
                _ => s / Math.Sqrt(n / tensor.shape[0]),
            };
        });

    /// <summary>
    /// Fills a model with the hashed, full-rank, He-scaled weights of Fixtures/parity/make_gradient_fixtures.py (see its
    /// docstring), well conditioned for training-mode BatchNorm, unlike <see cref="Fill"/>'s sinusoids.
    /// </summary>
    public static void FillHashed(nn.Module model) =>
        FillEach(model, (key, leaf, tensor) =>
        {
            long n = tensor.numel();
            var v = sin(arange(n, dtype: ScalarType.Float64) * 12.9898 + Phase(key)) * 43758.5453;
            var u = (v - v.floor() - 0.5).reshape(tensor.shape);
            return leaf switch
            {
                "running_var" => 1 + 0.5 * (u + 0.5),
                "running_mean" => 0.1 * u,
                "weight" when tensor.dim() == 1 => 1 + 0.2 * u,
                "bias" => 0.2 * u,
                _ => u * Math.Sqrt(24.0 / (n / tensor.shape[0])),
            };
        });

    /// <summary>Sets every state_dict entry to <paramref name="value"/>(key, leaf name, tensor) in float64; num_batches_tracked to 0.</summary>
    private static void FillEach(nn.Module model, Func<string, string, Tensor, Tensor> value)
    {
        using var noGrad = no_grad();
        foreach (var (key, tensor) in model.OrderedStateDict())
        {
            using var scope = NewDisposeScope();
            string leaf = key[(key.LastIndexOf('.') + 1)..];
            if (leaf == "num_batches_tracked")
                tensor.zero_();
            else
                tensor.copy_(value(key, leaf, tensor).to(tensor.dtype));
        }
    }

    public static Tensor Input(int height, int width)
    {
        long n = 2L * 3 * height * width;
        return sin(arange(n, dtype: ScalarType.Float64) * 0.01).reshape(2, 3, height, width).to(ScalarType.Float32);
    }

    private static double Phase(string name)
    {
        long sum = 0;
        for (int k = 0; k < name.Length; k++)
            sum += (k + 1) * name[k];
        return sum % 997 * 0.01;
    }
}
