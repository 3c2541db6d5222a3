using ResNet.MLNet.Weights;
using static TorchSharp.torch;

namespace ResNet.MLNet.Tests.TestSupport;

/// <summary>
/// Fills a model with the weights formula of Fixtures/parity/make_parity_fixtures.py (see its docstring), so the
/// C# and torchvision networks hold identical weights without shipping any.
/// </summary>
internal static class DeterministicWeights
{
    public static void Fill(nn.Module model)
    {
        using var noGrad = no_grad();
        foreach (var (key, tensor) in model.OrderedStateDict())
        {
            using var scope = NewDisposeScope();
            string leaf = key[(key.LastIndexOf('.') + 1)..];
            if (leaf == "num_batches_tracked")
            {
                tensor.zero_();
                continue;
            }
            long n = tensor.numel();
            var s = sin(arange(n, dtype: ScalarType.Float64) * 0.37 + Phase(key)).reshape(tensor.shape);
            Tensor value = leaf switch
            {
                "running_var" => 1 + 0.5 * (s + 1),
                "running_mean" => 0.1 * s,
                "weight" when tensor.dim() == 1 => 1 + 0.1 * s,
                "bias" => 0.1 * s,
                _ => s / Math.Sqrt(n / tensor.shape[0]),
            };
            tensor.copy_(value.to(tensor.dtype));
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
