using System.Text.Json;

namespace ResNet.MLNet.Tests.TestSupport;

/// <summary>The committed fixtures of Fixtures/predict (made by make_predict_fixtures.py).</summary>
internal static class PredictFixtures
{
    public static string PathOf(string name) => Fixtures.Path("predict", name);

    public static JsonElement Json(string name) => JsonDocument.Parse(File.ReadAllText(PathOf(name))).RootElement;
}
