using ResNet.MLNet.Tests.TestSupport;
using Xunit.Abstractions;

namespace ResNet.MLNet.Tests.Notebooks;

/// <summary>
/// Runs every notebook top to bottom in quick mode (RESNET_MLNET_QUICK=1) and writes the executed copy, outputs included,
/// to artifacts/notebooks/. With RESNET_MLNET_NOTEBOOK_MODE=full the notebooks run in full mode and their outputs are
/// written into notebooks/*.ipynb themselves: the way the shipped outputs are made.
/// </summary>
[Trait("Category", "Notebooks")]
public class NotebookTests(ITestOutputHelper output)
{
    public static TheoryData<string> Notebooks => NotebookFiles.Names;

    [Theory]
    [MemberData(nameof(Notebooks))]
    public async Task Runs_top_to_bottom(string name)
    {
        bool full = Environment.GetEnvironmentVariable("RESNET_MLNET_NOTEBOOK_MODE") == "full";
        var notebook = NotebookFiles.Load(name);
        var runs = await NotebookRunner.RunAsync(notebook, quick: !full);

        foreach (var run in runs)
            output.WriteLine($"cell {run.Cell.Number,2}: {run.Elapsed.TotalSeconds,6:F1} s, {run.Outputs.Count} outputs");
        output.WriteLine($"{name} ({(full ? "full" : "quick")} mode): {runs.Sum(r => r.Elapsed.TotalSeconds):F1} s");
        string executed = full ? notebook.Path : Path.Combine(Repo.Root, "artifacts", "notebooks", name + ".ipynb");
        notebook.SaveWithOutputs(executed, runs.ToDictionary(r => r.Cell.Number, r => r.Outputs));
        output.WriteLine($"executed notebook: {executed}");

        Assert.Equal(notebook.CodeCells.Count(), runs.Count);
        GC.Collect(); // the notebook's networks hold native memory until their finalizers run
        GC.WaitForPendingFinalizers();
    }
}
