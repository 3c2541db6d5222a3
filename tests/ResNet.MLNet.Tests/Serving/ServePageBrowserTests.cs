using PuppeteerSharp;
using ResNet.MLNet.Cli.Commands;
using ResNet.MLNet.Cli.Serving;
using ResNet.MLNet.Data;
using ResNet.MLNet.Tests.TestSupport;

namespace ResNet.MLNet.Tests.Serving;

/// <summary>A test that drives the system's Chromium (Debian's <c>chromium</c>, which .ci/run installs); skipped, with the reason, where there is none.</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    /// <summary>The browser: RESNET_MLNET_CHROMIUM, else /usr/bin/chromium; null when neither exists.</summary>
    public static string? Chromium { get; } = new[] { Environment.GetEnvironmentVariable("RESNET_MLNET_CHROMIUM"), "/usr/bin/chromium" }
        .FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p));

    public BrowserFactAttribute()
    {
        if (Chromium is null)
            Skip = "Needs Chromium: apt-get install chromium (or set RESNET_MLNET_CHROMIUM to a Chromium executable).";
    }
}

public class ServePageBrowserTests(ServedRun run) : IClassFixture<ServedRun>
{
    [BrowserFact]
    public async Task The_page_uploads_an_image_and_shows_the_prediction_and_the_heatmap()
    {
        await using var server = await ModelServer.StartAsync(new ServeOptions(run.ModelPath, Port: 0), TextWriter.Null);
        string image = Directory.GetFiles(Path.Combine(Repo.SampleData, "test", "trouser")).Order().First();
        string expected;
        using (var direct = new SavedModelPrediction(run.ModelPath))
            expected = direct.Predict(image, 5, ImageLimits.Default).PredictedLabel;

        await using var browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = BrowserFactAttribute.Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            Timeout = 60_000,
        });
        await using var page = await browser.NewPageAsync();
        await page.SetViewportAsync(new ViewPortOptions { Width = 390, Height = 844, IsMobile = true }); // a phone
        await page.GoToAsync(server.Url, WaitUntilNavigation.Networkidle0);
        await page.WaitForFunctionAsync("() => document.getElementById('meta').textContent.includes('cifar_resnet20')");

        var input = await page.QuerySelectorAsync("#file");
        await input.UploadFileAsync(image);
        await page.WaitForFunctionAsync("() => !document.getElementById('result').hidden", new WaitForFunctionOptions { Timeout = 60_000 });
        Assert.Equal(expected, await page.EvaluateExpressionAsync<string>("document.getElementById('label').textContent"));
        Assert.Equal(5, await page.EvaluateExpressionAsync<int>("document.querySelectorAll('#bars .row').length"));
        await page.WaitForFunctionAsync("() => { const i = document.getElementById('heatmap'); return !i.hidden && i.complete && i.naturalWidth > 0; }");
        Assert.StartsWith("data:image/png;base64,", await page.EvaluateExpressionAsync<string>("document.getElementById('heatmap').src"));

        // A file that is not an image: the page shows the server's error and no result.
        using var dir = new TempDirectory();
        string bad = Path.Combine(dir.Path, "notes.png");
        File.WriteAllText(bad, "not an image");
        await (await page.QuerySelectorAsync("#file")).UploadFileAsync(bad);
        await page.WaitForFunctionAsync("() => document.getElementById('error').textContent.length > 0");
        Assert.Contains("is not an image", await page.EvaluateExpressionAsync<string>("document.getElementById('error').textContent"));
        Assert.True(await page.EvaluateExpressionAsync<bool>("document.getElementById('result').hidden"));
    }
}
