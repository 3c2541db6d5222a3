namespace ResNet.MLNet.Weights;

/// <summary>
/// Where downloaded weights are kept: torch hub's checkpoint folder, so a file PyTorch downloaded is used here without a
/// download and a file downloaded here is found by <c>torch.hub.load_state_dict_from_url</c>.
/// </summary>
/// <remarks>
/// The folder follows <c>torch.hub.get_dir()</c>: <c>$TORCH_HOME/hub/checkpoints</c>; without <c>TORCH_HOME</c>,
/// <c>$XDG_CACHE_HOME/torch/hub/checkpoints</c>; without either, <c>~/.cache/torch/hub/checkpoints</c>
/// (<c>%USERPROFILE%\.cache\torch\hub\checkpoints</c> on Windows). A leading <c>~</c> is the home folder, as torch's
/// <c>os.path.expanduser</c> has it, and a relative value is taken from the current folder. One difference: torch takes a
/// variable set to the empty string as a relative path (<c>hub</c>), here it counts as unset, as the XDG specification says.
/// </remarks>
public static class WeightsCache
{
    /// <summary>The variable torch reads for its home folder.</summary>
    public const string TorchHomeVariable = "TORCH_HOME";

    /// <summary>The XDG cache folder variable, used when <see cref="TorchHomeVariable"/> is not set.</summary>
    public const string XdgCacheHomeVariable = "XDG_CACHE_HOME";

    /// <summary>torch hub's checkpoints folder as the environment names it now (it is read at each call, never cached).</summary>
    public static string Directory => Resolve(Environment.GetEnvironmentVariable);

    /// <summary>The full path <paramref name="fileName"/> has in <paramref name="cacheDirectory"/>, or in <see cref="Directory"/> when null.</summary>
    public static string GetPath(string fileName, string? cacheDirectory = null)
    {
        WeightsDownloadOptions.CheckFileName(fileName, nameof(fileName));
        return Path.Combine(cacheDirectory is null ? Directory : Path.GetFullPath(cacheDirectory), fileName);
    }

    /// <summary>The checkpoints folder for an environment given as a lookup (tests pass a dictionary, not the process environment).</summary>
    internal static string Resolve(Func<string, string?> environment)
    {
        string torchHome = NonEmpty(environment(TorchHomeVariable))
            ?? Path.Combine(NonEmpty(environment(XdgCacheHomeVariable)) ?? Path.Combine("~", ".cache"), "torch");
        return Path.GetFullPath(Path.Combine(ExpandHome(torchHome), "hub", "checkpoints"));
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary><c>os.path.expanduser</c> for <c>~</c> and <c>~/...</c>; <c>~user</c> is left as it is.</summary>
    private static string ExpandHome(string path)
    {
        if (path != "~" && !path.StartsWith("~/", StringComparison.Ordinal) &&
            !(OperatingSystem.IsWindows() && path.StartsWith(@"~\", StringComparison.Ordinal)))
            return path;
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return path.Length == 1 ? home : Path.Combine(home, path[2..]);
    }
}
