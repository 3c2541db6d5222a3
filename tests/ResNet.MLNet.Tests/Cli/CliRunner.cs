using ResNet.MLNet.Cli;

namespace ResNet.MLNet.Tests.Cli;

/// <summary>Runs the resnet-mlnet command line in-process and captures what it prints.</summary>
internal static class CliRunner
{
    public static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>
    /// Asserts a failure as the command line reports bad input: exit code 1 and one "error: " message on stderr that
    /// contains <paramref name="expected"/>, without a stack trace; stdout empty unless <paramref name="progressMayPrint"/>.
    /// </summary>
    public static void AssertFails((int ExitCode, string Output, string Error) result, string expected, bool progressMayPrint = false)
    {
        Assert.True(result.ExitCode == 1, $"exit code {result.ExitCode}; stderr: {result.Error}");
        Assert.StartsWith("error: ", result.Error);
        Assert.Contains(expected, result.Error);
        Assert.DoesNotContain("   at ", result.Error); // no stack trace
        if (!progressMayPrint)
            Assert.Equal("", result.Output);
    }
}
