using System.Text.RegularExpressions;

namespace ResNet.MLNet.Tests.Notebooks;

/// <summary>A <c>#r "nuget: Name, Version"</c> line.</summary>
internal sealed record PackageDirective(string Name, string Version);

/// <summary>A code cell with its .NET Interactive directives taken out.</summary>
/// <param name="Code">The C# code, with each directive line left blank so line numbers still match the cell.</param>
/// <param name="Packages">The <c>#r "nuget: ..."</c> packages, in order.</param>
/// <param name="Sources">The <c>#i "nuget: ..."</c> package sources, in order.</param>
internal sealed record DirectiveSplit(string Code, IReadOnlyList<PackageDirective> Packages, IReadOnlyList<string> Sources);

/// <summary>The .NET Interactive directives the notebooks may use: package references and package sources, nothing else.</summary>
internal static partial class NotebookDirectives
{
    /// <exception cref="InvalidDataException">A directive other than <c>#r "nuget:..."</c> or <c>#i "nuget:..."</c>.</exception>
    public static DirectiveSplit Split(string source)
    {
        var packages = new List<PackageDirective>();
        var sources = new List<string>();
        var lines = source.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (!line.StartsWith("#r ", StringComparison.Ordinal) && !line.StartsWith("#i ", StringComparison.Ordinal) && !line.StartsWith("#!", StringComparison.Ordinal))
                continue;
            if (Package().Match(line) is { Success: true } package)
                packages.Add(new PackageDirective(package.Groups[1].Value.Trim(), package.Groups[2].Value.Trim()));
            else if (PackageSource().Match(line) is { Success: true } feed)
                sources.Add(feed.Groups[1].Value.Trim());
            else
                throw new InvalidDataException(
                    $"line {i + 1}: '{line}' is not supported: notebooks use only #r \"nuget: Name, Version\" and #i \"nuget: source\", so the file-based apps and the test harness can follow them.");
            lines[i] = "";
        }
        return new DirectiveSplit(string.Join('\n', lines), packages, sources);
    }

    [GeneratedRegex(@"^#r\s+""nuget:\s*([^,""]+),\s*([^""]+)""$")]
    private static partial Regex Package();

    [GeneratedRegex(@"^#i\s+""nuget:\s*([^""]+)""$")]
    private static partial Regex PackageSource();
}
