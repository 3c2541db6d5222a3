using Microsoft.ML;
using Microsoft.ML.Data;

namespace ResNet.MLNet;

/// <summary>
/// Base of the toolkit's fitted transformers that run a ResNet on an image column. In memory it is a chain of ML.NET
/// image transforms, a batched network and a column cleanup; saved with <c>mlContext.Model.Save</c> it writes its
/// twin, the same chain with ML.NET's <c>OnnxTransformer</c> in place of the network, so that
/// <c>mlContext.Model.Load</c> needs neither this library nor libtorch. Dispose it to release the network.
/// </summary>
public abstract class ImageModelTransformer : ITransformer, IDisposable
{
    private readonly ITransformer chain;
    private readonly Func<OwnedTransformer> createTwin;
    private readonly IDisposable engine;
    private bool disposed;

    private protected ImageModelTransformer((ITransformer Live, Func<OwnedTransformer> Twin) chains, IDisposable engine)
    {
        chain = chains.Live;
        createTwin = chains.Twin;
        this.engine = engine;
    }

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => Live.GetOutputSchema(inputSchema);

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => Live.GetRowToRowMapper(inputSchema);

    /// <inheritdoc />
    public IDataView Transform(IDataView input) => Live.Transform(input);

    /// <summary>Writes the plain-ML.NET twin (image transforms and an ONNX model) in this transformer's place.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        _ = Live;
        using var twin = createTwin();
        twin.Transformer.Save(ctx);
    }

    private ITransformer Live => disposed ? throw new ObjectDisposedException(GetType().Name) : chain;

    /// <summary>Releases the network and its native memory.</summary>
    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        engine.Dispose();
        GC.SuppressFinalize(this);
    }
}
