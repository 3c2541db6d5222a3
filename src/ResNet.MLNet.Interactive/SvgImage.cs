using ResNet.MLNet.Pictures;

namespace ResNet.MLNet.Interactive;

/// <summary>A picture as SVG text (a chart or a grid of feature maps), shown inline in notebooks.</summary>
/// <param name="Svg">The SVG document.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Title">What it shows: the alternative text, and what plain-text displays print.</param>
public sealed record SvgImage(string Svg, int Width, int Height, string Title)
{
    /// <summary>
    /// An <c>img</c> element holding the SVG as a data URI. As an image, each picture keeps its element ids to itself,
    /// so several charts on one page do not share clip paths.
    /// </summary>
    public string ToHtml() =>
        $"<img src=\"{DataUri}\" width=\"{Width}\" height=\"{Height}\" alt=\"{System.Net.WebUtility.HtmlEncode(Title)}\" />";

    /// <summary>The picture as a <c>data:image/svg+xml;base64,...</c> URI.</summary>
    public string DataUri => "data:image/svg+xml;base64," + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(Svg));

    /// <summary>Writes the SVG file (creating its folder) and returns its full path.</summary>
    public string Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, Svg);
        return full;
    }

    /// <summary>A drawn picture as SVG.</summary>
    internal static SvgImage Of(Picture picture, string title) => new(picture.ToSvg(), picture.Width, picture.Height, title);

    /// <inheritdoc />
    public override string ToString() => $"[{Width}x{Height} picture: {Title}]";
}
