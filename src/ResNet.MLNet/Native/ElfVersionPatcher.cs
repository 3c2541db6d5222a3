// This file is compiled twice: into the library (RESNET_MLNET_LIBRARY defined), and by MSBuild's
// RoslynCodeTaskFactory as the build task that patches TorchSharp's native library in an app's output
// (build/ResNet.MLNet.targets). Keep it free of other dependencies.
using System;
using System.IO;
using System.Text;

namespace ResNet.MLNet.Native
{
    /// <summary>
    /// Marks symbol-version requirements of an ELF shared library as weak, so that the dynamic loader accepts
    /// the library on systems whose libstdc++ lacks that version (README, "Platform notes": TorchSharp 0.107 asks for
    /// <c>GLIBCXX_3.4.32</c> for one marker symbol it never calls).
    /// </summary>
    internal static class ElfVersionPatcher
    {
        /// <summary>The version that TorchSharp 0.107's libLibTorchSharp.so requires and Debian 12 / Ubuntu 22.04 lack.</summary>
        public const string LibStdCxxMarkerVersion = "GLIBCXX_3.4.32";

        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const ushort VerFlagWeak = 0x2;

        /// <summary>
        /// Sets the weak flag on every requirement of <paramref name="version"/> in <paramref name="image"/>.
        /// Returns the number of requirements changed (0 when already weak or absent).
        /// </summary>
        /// <exception cref="InvalidDataException">The bytes are not a little-endian 64-bit ELF file, or its version tables are out of bounds.</exception>
        public static int MarkVersionWeak(byte[] image, string version)
        {
            if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
                throw new InvalidDataException("not an ELF file");
            if (image[4] != 2 || image[5] != 1)
                throw new InvalidDataException("only little-endian 64-bit ELF files are supported");

            ulong sectionTable = ReadU64(image, 0x28);
            int entrySize = ReadU16(image, 0x3A);
            int count = ReadU16(image, 0x3C);
            int changed = 0;
            for (int i = 0; i < count; i++)
            {
                long header = Checked(image, sectionTable + (ulong)(i * entrySize), 64);
                if (ReadU32(image, header + 4) != ShtGnuVerneed)
                    continue;
                long tableOffset = Checked(image, ReadU64(image, header + 0x18), 16);
                uint linkedStrings = ReadU32(image, header + 0x28);
                uint entries = ReadU32(image, header + 0x2C);
                long stringsHeader = Checked(image, sectionTable + (ulong)(linkedStrings * entrySize), 64);
                ulong strings = ReadU64(image, stringsHeader + 0x18);

                long need = tableOffset;
                for (uint n = 0; n < entries; n++)
                {
                    Checked(image, (ulong)need, 16);
                    int auxCount = ReadU16(image, need + 2);
                    long aux = need + ReadU32(image, need + 8);
                    for (int a = 0; a < auxCount; a++)
                    {
                        Checked(image, (ulong)aux, 16);
                        string name = ReadCString(image, Checked(image, strings + ReadU32(image, aux + 8), 1));
                        ushort flags = ReadU16(image, aux + 4);
                        if (name == version && (flags & VerFlagWeak) == 0)
                        {
                            WriteU16(image, aux + 4, (ushort)(flags | VerFlagWeak));
                            changed++;
                        }
                        aux += ReadU32(image, aux + 12);
                    }
                    uint next = ReadU32(image, need + 12);
                    if (next == 0)
                        break;
                    need += next;
                }
            }
            return changed;
        }

        /// <summary>
        /// Writes <paramref name="target"/> as a copy of <paramref name="source"/> with <see cref="LibStdCxxMarkerVersion"/>
        /// made weak, through a temporary file and an atomic rename. Returns whether anything needed changing.
        /// </summary>
        public static bool PatchFile(string source, string target)
        {
            byte[] image = File.ReadAllBytes(source);
            int changed = MarkVersionWeak(image, LibStdCxxMarkerVersion);
            if (changed == 0 && string.Equals(Path.GetFullPath(source), Path.GetFullPath(target), StringComparison.Ordinal))
                return false;
            // Write a sibling and rename over the target: a process that has the old file mapped keeps it intact.
            string temp = target + ".tmp-" + Guid.NewGuid().ToString("N");
            File.WriteAllBytes(temp, image);
            if (File.Exists(target))
                File.Replace(temp, target, null);
            else
                File.Move(temp, target);
            return changed > 0;
        }

        private static long Checked(byte[] image, ulong offset, int length)
        {
            if (offset > (ulong)image.Length || (ulong)image.Length - offset < (ulong)length)
                throw new InvalidDataException($"ELF structure at offset {offset} runs past the end of the file ({image.Length} bytes)");
            return (long)offset;
        }

        private static ushort ReadU16(byte[] b, long o) => (ushort)(b[o] | b[o + 1] << 8);
        private static uint ReadU32(byte[] b, long o) => BitConverter.ToUInt32(b, (int)o);
        private static ulong ReadU64(byte[] b, long o) => BitConverter.ToUInt64(b, (int)o);
        private static void WriteU16(byte[] b, long o, ushort v) { b[o] = (byte)v; b[o + 1] = (byte)(v >> 8); }

        private static string ReadCString(byte[] b, long o)
        {
            long end = o;
            while (end < b.Length && b[end] != 0)
                end++;
            return Encoding.ASCII.GetString(b, (int)o, (int)(end - o));
        }
    }

#if !RESNET_MLNET_LIBRARY
    /// <summary>MSBuild task: patches the libLibTorchSharp.so files given in <see cref="Files"/> in place.</summary>
    public sealed class PatchLibTorchSharp : Microsoft.Build.Utilities.Task
    {
        /// <summary>The copies of libLibTorchSharp.so in the output directory.</summary>
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        /// <inheritdoc />
        public override bool Execute()
        {
            foreach (var item in Files)
            {
                string path = item.ItemSpec;
                try
                {
                    if (ElfVersionPatcher.PatchFile(path, path))
                        Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                            $"ResNet.MLNet: marked {ElfVersionPatcher.LibStdCxxMarkerVersion} weak in {path} (runs on libstdc++ 12).");
                }
                catch (Exception e) when (e is IOException || e is InvalidDataException || e is UnauthorizedAccessException)
                {
                    Log.LogWarning($"ResNet.MLNet: could not patch {path}: {e.Message}. TorchSharp may fail to load on systems with libstdc++ older than GCC 13; the library retries at run time.");
                }
            }
            return true;
        }
    }
#endif
}
