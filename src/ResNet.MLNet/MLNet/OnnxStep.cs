using Microsoft.ML;
using Microsoft.ML.Transforms.Onnx;

namespace ResNet.MLNet;

/// <summary>
/// ML.NET's OnnxTransformer running an in-memory ONNX model on CPU, and the file it reads the model from: disposing the
/// step releases the ONNX Runtime session and deletes the file.
/// </summary>
/// <remarks>
/// ML.NET reads an ONNX model only from a file, and reads the file again when the model is saved. Given a stream,
/// ML.NET 6 copies it to a temporary file that it never deletes, not even when the transformer is disposed (only a
/// model loaded with <c>mlContext.Model.Load</c> deletes its copy, on dispose): every classifier and every save left a
/// network-sized file in the temp folder. So the bytes go to a file of ours instead.
/// </remarks>
internal sealed class OnnxStep : IDisposable
{
    private readonly string file;
    private bool disposed;

    private OnnxStep(OnnxTransformer transformer, string file)
    {
        Transformer = transformer;
        this.file = file;
    }

    /// <summary>The fitted transformer; valid until the step is disposed.</summary>
    public OnnxTransformer Transformer { get; }

    /// <summary>
    /// Fits ML.NET's OnnxTransformer for <paramref name="model"/> (the bytes of an .onnx file) to <paramref name="input"/>:
    /// it reads <paramref name="inputColumn"/>, of the given tensor shape, and writes <paramref name="outputColumn"/>
    /// (each also the graph's value name).
    /// </summary>
    public static OnnxStep Fit(TransformsCatalog catalog, byte[] model, string inputColumn, int[] inputShape, string outputColumn, IDataView input)
    {
        string file = Path.Combine(Path.GetTempPath(), $"resnet-mlnet-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(file, model);
        try
        {
            var transformer = catalog.ApplyOnnxModel([outputColumn], [inputColumn], file, new Dictionary<string, int[]> { [inputColumn] = inputShape },
                gpuDeviceId: null, fallbackToCpu: false).Fit(input);
            return new OnnxStep(transformer, file);
        }
        catch
        {
            File.Delete(file);
            throw;
        }
    }

    /// <summary>Releases the ONNX Runtime session and deletes the model file.</summary>
    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        Transformer.Dispose();
        try
        {
            File.Delete(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Dispose does not throw: a file another process holds open stays in the temp folder.
        }
    }
}
