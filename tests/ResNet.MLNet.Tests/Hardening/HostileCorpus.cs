using Microsoft.ML.Data;
using ResNet.MLNet.Models;
using ResNet.MLNet.Tests.TestSupport;
using ResNet.MLNet.Weights;

namespace ResNet.MLNet.Tests.Hardening;

/// <summary>One command-line run against a hostile input: what it must exit with and what its one-line error must name.</summary>
/// <param name="Name">What the case is (the issue's class of attack).</param>
/// <param name="Arguments">The <c>resnet-mlnet</c> command line.</param>
/// <param name="ExitCodes">Acceptable exit codes: 1 (bad input) for what must be refused; 0 or 1 for random mutations.</param>
/// <param name="Names">Text the error must contain when the run fails: the file (or folder) at fault.</param>
internal sealed record HostileCase(string Name, string[] Arguments, int[] ExitCodes, string? Names);

/// <summary>
/// The hostile-input corpus of the hardening issue, generated (not downloaded, not committed as blobs): deterministic
/// files for every class of attack — decompression bombs, a tiny weights file declaring a huge head, pickle memory
/// bombs and opcode floods, colliding dict keys, a name flood for <c>inspect</c>, shared-storage amplification for
/// <c>convert</c>, truncated images and zips, a FIFO and <c>/dev/zero</c> posing as images, NaN weights, a zip that is
/// not a model, <c>--force</c> aimed at the data — plus seeded random truncations and byte flips of real weight files
/// and images. <see cref="HostileCorpusTests"/> runs every case through the real CLI in a child process.
/// </summary>
internal static class HostileCorpus
{
    public static IReadOnlyList<HostileCase> Write(string root, int randomCases, int seed)
    {
        Directory.CreateDirectory(root);
        string P(string name) => Path.Combine(root, name);
        var cases = new List<HostileCase>();
        void Refused(string name, string names, params string[] arguments) => cases.Add(new HostileCase(name, arguments, [1], names));

        // Real files to point commands at and to mutate: a CIFAR ResNet-8 in two formats, a PNG and a JPEG.
        string weights = P("tiny.safetensors"), pth = P("tiny.pth");
        using (var model = ResNetModels.CifarResNet(8))
        {
            var tensors = NamedTensor.FromModel(model);
            WeightsFile.Write(weights, tensors);
            WeightsFile.Write(pth, tensors);
        }
        var pixels = new byte[40 * 30 * 4];
        new Random(seed).NextBytes(pixels);
        using (var image = MLImage.CreateFromPixels(40, 30, MLPixelFormat.Bgra32, pixels))
        {
            image.Save(P("ok.png"));
            image.Save(P("ok.jpg"));
        }
        string[] Predict(string image, string? with = null) =>
            ["predict", "--weights", with ?? weights, "--arch", "cifar_resnet8", "--resize", "32", "--crop", "32", "--image", image];

        // 1. Decompression bombs: headers claiming gigapixels, refused before any decoder runs.
        File.WriteAllBytes(P("bomb.gif"), HostileImages.Gif(65535, 65535, 65535, 65535));
        Refused("29-byte GIF claiming 65535x65535", P("bomb.gif"), Predict(P("bomb.gif")));
        string bombFolder = SampleImages.Folder(P("bomb-folder"), perClass: 2);
        string pngBomb = Path.Combine(Directory.GetDirectories(bombFolder)[0], "bomb.png");
        File.WriteAllBytes(pngBomb, HostileImages.Png(30000, 30000));
        Refused("PNG claiming 30000x30000 in a folder (featurize)", pngBomb,
            "featurize", "--data", bombFolder, "--arch", "cifar_resnet8", "--image-size", "16", "--out", P("features.csv"));

        // 2. A weights file under 100 bytes declaring a 50-million-row head.
        File.WriteAllBytes(P("huge-head.safetensors"), HostileWeights.HugeDeclaredTensorSafetensors(50_000_000, 64));
        Refused("86-byte weights declaring fc.weight 50,000,000 x 64", P("huge-head.safetensors"), Predict(P("ok.png"), P("huge-head.safetensors")));
        Refused("the same file inspected", P("huge-head.safetensors"), "inspect", P("huge-head.safetensors"));

        // 4-5. Pickle memory bombs and colliding dict keys, inside torch.save zips.
        HostileWeights.WritePickleZip(P("memo-bomb.pth"), HostileWeights.MemoBombPickle());
        Refused("memoized string re-encoded 20,000 times", P("memo-bomb.pth"), "inspect", P("memo-bomb.pth"));
        HostileWeights.WritePickleZip(P("memoize-flood.pth"), HostileWeights.OpcodeFloodPickle([0x7D, 0x94], 1_000_000));
        Refused("2 MB of EMPTY_DICT + MEMOIZE", P("memoize-flood.pth"), "inspect", P("memoize-flood.pth"));
        HostileWeights.WritePickleZip(P("dup-flood.pth"), HostileWeights.OpcodeFloodPickle([0x32], 4_000_000));
        Refused("4 MB of DUP", P("dup-flood.pth"), "inspect", P("dup-flood.pth"));
        HostileWeights.WritePickleZip(P("colliding-keys.pth"), HostileWeights.CollidingKeysPickle(150_000));
        Refused("150,000 integer dict keys with one hash", P("colliding-keys.pth"), "inspect", P("colliding-keys.pth"));

        // 6. Output bomb: one 1 MB name among 100,000 tensors (inspect succeeds, in proportion: see the tests).
        HostileWeights.WriteNameFlood(P("name-flood.safetensors"), nameLength: 1 << 20, others: 100_000);
        cases.Add(new HostileCase("1 MB name among 100,000 tensors (inspect)", ["inspect", P("name-flood.safetensors")], [0], null));

        // 7. Convert amplification: 2,000 keys viewing one 4 MB storage.
        HostileWeights.WriteSharedStoragePth(P("shared-storage.pth"), keys: 2000, storageFloats: 1 << 20);
        Refused("2,000 views of one 4 MB storage (convert)", P("shared-storage.pth"),
            "convert", "--in", P("shared-storage.pth"), "--out", P("amplified.safetensors"));

        // 8. Files that are not what they claim: not a model, not a regular file, truncated.
        File.WriteAllBytes(P("not-a-model.zip"), File.ReadAllBytes(pth));
        string data = SampleImages.Folder(P("data"), perClass: 2);
        Refused("a weights zip given as a model", P("not-a-model.zip"), "evaluate", "--model", P("not-a-model.zip"), "--data", data);
        if (OperatingSystem.IsLinux())
        {
            File.CreateSymbolicLink(P("zero.png"), "/dev/zero");
            Refused("/dev/zero behind a .png name", P("zero.png"), Predict(P("zero.png")));
            if (System.Diagnostics.Process.Start("mkfifo", P("fifo.png")) is { } mkfifo)
            {
                mkfifo.WaitForExit();
                Refused("a FIFO named .png", P("fifo.png"), Predict(P("fifo.png")));
            }
        }
        File.WriteAllBytes(P("truncated.jpg"), HostileImages.Jpeg(64, 64, truncated: true));
        Refused("a truncated JPEG", P("truncated.jpg"), Predict(P("truncated.jpg")));
        File.WriteAllBytes(P("truncated.png"), HostileImages.Png(64, 64, truncated: true));
        Refused("a truncated PNG", P("truncated.png"), Predict(P("truncated.png")));
        byte[] zip = File.ReadAllBytes(pth);
        File.WriteAllBytes(P("cut.pth"), zip[..(zip.Length * 3 / 4)]);
        Refused("a .pth cut before its zip directory", P("cut.pth"), "inspect", P("cut.pth"));

        // 9. Non-finite weights.
        var poisoned = WeightsFile.Read(weights).Tensors.ToList();
        int conv = poisoned.FindIndex(t => t.Name == "conv1.weight");
        var bytes = poisoned[conv].Data.ToArray();
        BitConverter.GetBytes(float.NaN).CopyTo(bytes, 0);
        poisoned[conv] = new NamedTensor(poisoned[conv].Name, poisoned[conv].DType, poisoned[conv].Shape, bytes);
        WeightsFile.Write(P("nan.safetensors"), poisoned);
        Refused("NaN in conv1.weight", "conv1.weight", Predict(P("ok.png"), P("nan.safetensors")));

        // 3. --force aimed at the data.
        Refused("finetune --out inside the data folder with --force", data,
            "finetune", "--data", data, "--arch", "cifar_resnet20", "--epochs", "1", "--out", Path.Combine(data, "run"), "--force");

        // Randomized: truncations and byte flips of the real files, read by the command that takes them.
        var random = new Random(seed);
        var sources = new[] { weights, pth, P("ok.png"), P("ok.jpg") };
        for (int i = 0; i < randomCases; i++)
        {
            string source = sources[i % sources.Length];
            byte[] original = File.ReadAllBytes(source);
            bool truncate = random.Next(2) == 0;
            byte[] mutated = truncate ? original[..random.Next(original.Length)] : (byte[])original.Clone();
            for (int f = 0, flips = 1 + random.Next(16); !truncate && f < flips; f++)
                mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
            string path = P($"mutated-{i}{Path.GetExtension(source)}");
            File.WriteAllBytes(path, mutated);
            bool isImage = Path.GetExtension(source) is ".png" or ".jpg";
            cases.Add(new HostileCase($"{(truncate ? "truncated" : "flipped")} {Path.GetFileName(source)} #{i}",
                isImage ? Predict(path) : ["inspect", path], [0, 1], path));
        }
        return cases;
    }
}
