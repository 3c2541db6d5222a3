using System.Security.Cryptography;
using ResNet.MLNet.Tests.TestSupport;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Tests.Weights.Download;

/// <summary>Hashes as torch hub checks them: the prefix in torchvision file names, or a full SHA-256.</summary>
public sealed class WeightsHashTests
{
    [Theory] // expected values from Python's re with torch hub's HASH_REGEX, r'-([a-f0-9]*)\.'
    [InlineData("resnet50-11ad3fa6.pth", "11ad3fa6")]
    [InlineData("/cache/resnet50-11ad3fa6.pth", "11ad3fa6")]
    [InlineData("resnet50.pth", null)]
    [InlineData("resnet50-11ad3fa6", null)]
    [InlineData("a-b-11ad.pth", "11ad")]
    [InlineData("regnet-y-1a2b.tar.gz", "1a2b")]
    [InlineData("x-abc.def-12.pth", "abc")]
    [InlineData("x-ABCD.pth", null)]
    [InlineData("foo-.pth", null)] // torch finds '', which every hash starts with: no check either way
    public void Should_find_the_hash_prefix_in_a_file_name_as_torch_hub_does(string fileName, string? expected)
    {
        Assert.Equal(expected, WeightsHash.FromFileName(fileName));
    }

    [Fact]
    public void Should_verify_a_cached_file_against_its_name_or_a_given_hash()
    {
        using var temp = new TempDirectory();
        byte[] bytes = "weights"u8.ToArray();
        string sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        string good = temp.File($"w-{sha[..8]}.pth");
        File.WriteAllBytes(good, bytes);
        string bad = temp.File("w-0000beef.pth");
        File.WriteAllBytes(bad, bytes);

        Assert.Equal(sha, WeightsHash.ComputeSha256(good));
        WeightsHash.Verify(good);
        WeightsHash.Verify(bad, sha);
        var error = Assert.Throws<WeightsHashMismatchException>(() => WeightsHash.Verify(bad));
        Assert.Equal((bad, "0000beef", sha), (error.Location, error.ExpectedSha256, error.ActualSha256));
        Assert.Contains(bad, error.Message);
        Assert.Contains(sha, error.Message);
        Assert.True(File.Exists(bad));
        Assert.Throws<ArgumentException>("expectedSha256", () => WeightsHash.Verify(temp.File("none.pth")));
    }

    [Fact]
    public void Should_refuse_a_given_hash_that_disagrees_with_the_file_name()
    {
        Assert.Equal("11ad3fa6ff", WeightsHash.Expected("11ad3fa6ff", "resnet50-11ad3fa6.pth"));
        Assert.Equal("11ad3fa6", WeightsHash.Expected("11ad", "resnet50-11ad3fa6.pth"));
        var error = Assert.Throws<ArgumentException>("Sha256", () => WeightsHash.Expected("22ad3fa6", "resnet50-11ad3fa6.pth"));
        Assert.Contains("resnet50-11ad3fa6.pth", error.Message);
    }

    [Fact]
    public void Should_check_download_options_as_they_are_set()
    {
        Assert.Equal("abcd", new WeightsDownloadOptions { Sha256 = "ABCD" }.Sha256);
        Assert.Throws<ArgumentException>("Sha256", () => new WeightsDownloadOptions { Sha256 = "xyz" });
        Assert.Throws<ArgumentException>("Sha256", () => new WeightsDownloadOptions { Sha256 = new string('a', 65) });
        Assert.Throws<ArgumentException>("FileName", () => new WeightsDownloadOptions { FileName = "../a.pth" });
        Assert.Throws<ArgumentException>("CacheDirectory", () => new WeightsDownloadOptions { CacheDirectory = "" });
        Assert.Throws<ArgumentOutOfRangeException>("MaxAttempts", () => new WeightsDownloadOptions { MaxAttempts = 0 });
        Assert.Throws<ArgumentOutOfRangeException>("Timeout", () => new WeightsDownloadOptions { Timeout = TimeSpan.Zero });
    }
}
