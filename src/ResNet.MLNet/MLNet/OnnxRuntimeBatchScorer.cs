using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ResNet.MLNet;

/// <summary>
/// Runs an exported network with ONNX Runtime on CPU, a batch per call, reusing one session and one set of run
/// options. ONNX Runtime reads the caller's input and writes the caller's output in place (both pinned for the call):
/// no per-batch copies or allocations of the (batch x 3 x H x W) input.
/// </summary>
internal sealed class OnnxRuntimeBatchScorer : IBatchScorer
{
    private readonly InferenceSession session;
    private readonly RunOptions runOptions = new();
    private readonly string[] inputNames;
    private readonly string[] outputNames;
    private readonly long[] imageShape;

    public OnnxRuntimeBatchScorer(byte[] onnx, string inputName, string outputName, int inputLength, int channels, int imageSize)
    {
        using var options = CreateSessionOptions();
        session = new InferenceSession(onnx, options);
        inputNames = [inputName];
        outputNames = [outputName];
        imageShape = [channels, imageSize, imageSize];
        InputLength = inputLength;
        var dims = session.OutputMetadata[outputName].Dimensions;
        OutputLength = dims.Skip(1).Aggregate(1, (a, b) => a * b);
    }

    /// <summary>
    /// The engine's session options: all graph optimizations, sequential, one intra-op thread per processor. On x64 CPUs
    /// without VNNI, integer matrix products use ONNX Runtime's exact u8u8 kernels (<c>session.x64quantprecision</c>)
    /// instead of u8s8 ones whose int16 pair sums saturate with 8-bit weights.
    /// </summary>
    internal static SessionOptions CreateSessionOptions()
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = Environment.ProcessorCount,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported && !HasVnni)
            options.AddSessionConfigEntry("session.x64quantprecision", "1");
        return options;
    }

    /// <summary>Whether the CPU has VNNI (AVX-VNNI or AVX512-VNNI), which multiplies u8 x s8 into int32 without saturation.</summary>
    internal static bool HasVnni => System.Runtime.Intrinsics.X86.AvxVnni.IsSupported || Native.CpuFlags.HasAny("avx512_vnni");

    public int InputLength { get; }
    public int OutputLength { get; }

    public unsafe void Run(ReadOnlySpan<float> input, int rows, Span<float> output)
    {
        if (input.Length != rows * InputLength || output.Length != rows * OutputLength)
            throw new ArgumentException($"Expected {rows} x {InputLength} input and {rows} x {OutputLength} output values; got {input.Length} and {output.Length}.");
        fixed (float* inputData = input)
        fixed (float* outputData = output)
        {
            using var inputValue = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float,
                [rows, .. imageShape], (IntPtr)inputData, (long)input.Length * sizeof(float));
            using var outputValue = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float,
                [rows, OutputLength], (IntPtr)outputData, (long)output.Length * sizeof(float));
            session.Run(runOptions, inputNames, [inputValue], outputNames, [outputValue]);
        }
    }

    public void Dispose()
    {
        session.Dispose();
        runOptions.Dispose();
    }
}
