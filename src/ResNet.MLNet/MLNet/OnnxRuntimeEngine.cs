using Microsoft.ML.OnnxRuntime;

namespace ResNet.MLNet;

/// <summary>Runs an exported network with ONNX Runtime on CPU, a batch per call, reusing one session.</summary>
internal sealed class OnnxRuntimeEngine : IBatchModel
{
    private readonly InferenceSession session;
    private readonly string inputName;
    private readonly string outputName;
    private readonly long[] imageShape;

    public OnnxRuntimeEngine(byte[] onnx, string inputName, string outputName, int inputLength, int channels, int imageSize)
    {
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = Environment.ProcessorCount,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        session = new InferenceSession(onnx, options);
        this.inputName = inputName;
        this.outputName = outputName;
        imageShape = [channels, imageSize, imageSize];
        InputLength = inputLength;
        var dims = session.OutputMetadata[outputName].Dimensions;
        OutputLength = dims.Skip(1).Aggregate(1, (a, b) => a * b);
    }

    public int InputLength { get; }
    public int OutputLength { get; }

    public void Run(ReadOnlySpan<float> input, int rows, Span<float> output)
    {
        float[] buffer = input.ToArray();
        using var value = OrtValue.CreateTensorValueFromMemory(buffer, [rows, .. imageShape]);
        using var results = session.Run(new RunOptions(), [inputName], [value], [outputName]);
        results[0].GetTensorDataAsSpan<float>().CopyTo(output);
    }

    public void Dispose() => session.Dispose();
}
