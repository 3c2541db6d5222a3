namespace ResNet.MLNet.Native;

/// <summary>The instruction-set flags of this machine's CPU, as Linux lists them in /proc/cpuinfo (none elsewhere).</summary>
internal static class CpuFlags
{
    private static readonly Lazy<HashSet<string>> flags = new(() =>
        File.Exists("/proc/cpuinfo") ? Parse(File.ReadLines("/proc/cpuinfo")) : []);

    /// <summary>Whether the CPU lists any of <paramref name="names"/> (such as <c>avx512_vnni</c>).</summary>
    public static bool HasAny(params string[] names) => names.Any(flags.Value.Contains);

    /// <summary>The flags of the first "flags" line of /proc/cpuinfo's text.</summary>
    internal static HashSet<string> Parse(IEnumerable<string> cpuinfoLines) =>
        cpuinfoLines.FirstOrDefault(line => line.StartsWith("flags", StringComparison.Ordinal)) is { } line
            ? [.. line[(line.IndexOf(':') + 1)..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)]
            : [];
}
