using System.Runtime.Intrinsics.X86;
using TorchSharp;
using ResNet.MLNet.Models;
using static TorchSharp.torch;

namespace ResNet.MLNet.Training;

/// <summary>
/// Refuses training that libtorch 2.10's oneDNN would silently get wrong. On AVX-512 CPUs (measured on this project's
/// AMD EPYC), a convolution whose output channels are not a multiple of 16 gets a wrong, often non-finite, input
/// gradient in float32 (with any thread count), and a wrong output in bfloat16; multiples of 16, hence every network of
/// the zoo, are exact to float rounding. Limiting oneDNN to AVX2 (<c>ONEDNN_MAX_CPU_ISA=AVX2</c>) makes them exact, slower.
/// </summary>
internal static class OneDnnChannelCheck
{
    private const string IsaVariable = "ONEDNN_MAX_CPU_ISA";

    /// <summary>The first convolution (state_dict name) whose results would be wrong, or null when training is safe.</summary>
    public static string? FindUnsafeConvolution(ResNetModel model, Device device, bool bfloat16, string? maxIsa)
    {
        if (device.type != DeviceType.CPU || !Avx512F.IsSupported || LimitsIsaBelowAvx512(maxIsa))
            return null;
        // In float32 only the input gradient is wrong, and none flows into the images: the first convolution is safe.
        return model.named_parameters()
            .Where(p => p.parameter.dim() == 4 && p.parameter.shape[0] % 16 != 0 && (bfloat16 || p.name != "conv1.weight"))
            .Select(p => p.name[..p.name.LastIndexOf('.')])
            .FirstOrDefault();
    }

    /// <exception cref="ArgumentException">The model has such a convolution; the message names it and the ways out.</exception>
    public static void Check(ResNetModel model, Device device, bool bfloat16)
    {
        string? layer = FindUnsafeConvolution(model, device, bfloat16, Environment.GetEnvironmentVariable(IsaVariable));
        if (layer is null)
            return;
        long channels = model.named_parameters().First(p => p.name == layer + ".weight").parameter.shape[0];
        throw new ArgumentException(
            $"The convolution '{layer}' of {model.Options.Name} has {channels} output channels. On this AVX-512 CPU, libtorch's oneDNN computes wrong " +
            $"{(bfloat16 ? "bfloat16 outputs" : "input gradients")} for convolutions whose output channels are not a multiple of 16, so training would be silently wrong. " +
            $"Use widths (StemWidth, StageWidths) that are multiples of 16, or start the process with {IsaVariable}=AVX2 (slower).", "model");
    }

    private static bool LimitsIsaBelowAvx512(string? isa) =>
        !string.IsNullOrWhiteSpace(isa)
        && (isa.StartsWith("SSE", StringComparison.OrdinalIgnoreCase) || isa.StartsWith("AVX2", StringComparison.OrdinalIgnoreCase)
            || isa.Equals("AVX", StringComparison.OrdinalIgnoreCase));
}
