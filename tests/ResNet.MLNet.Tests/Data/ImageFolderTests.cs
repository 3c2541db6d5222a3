using ResNet.MLNet.Data;
using ResNet.MLNet.Tests.TestSupport;

namespace ResNet.MLNet.Tests.Data;

public class ImageFolderTests
{
    /// <summary>Writes an empty file at <paramref name="relative"/> below <paramref name="root"/> (the listing reads no bytes).</summary>
    private static void Touch(string root, string relative)
    {
        string path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, []);
    }

    [Fact]
    public void Images_in_sub_folders_belong_to_their_top_level_class_as_in_torchvision()
    {
        using var temp = new TempDirectory();
        Touch(temp.Path, "cat/1.png");
        Touch(temp.Path, "cat/indoor/2.jpg");
        Touch(temp.Path, "cat/indoor/deeper/3.JPEG");
        Touch(temp.Path, "dog/outdoor/4.png");

        var entries = ImageFolder.List(temp.Path);

        Assert.Equal(["cat", "cat", "cat", "dog"], entries.Select(e => e.Label));
        Assert.Equal(["cat/1.png", "cat/indoor/2.jpg", "cat/indoor/deeper/3.JPEG", "dog/outdoor/4.png"],
            entries.Select(e => Path.GetRelativePath(temp.Path, e.ImagePath).Replace('\\', '/')));
        Assert.Empty(ImageFolder.EmptyClasses(temp.Path)); // dog's images are all in a sub-folder
    }

    [Fact]
    public void Hidden_folders_and_files_are_neither_classes_nor_images()
    {
        using var temp = new TempDirectory();
        Touch(temp.Path, "cat/1.png");
        Touch(temp.Path, "cat/.2.png");                        // macOS resource fork
        Touch(temp.Path, "cat/.ipynb_checkpoints/3.png");      // Jupyter's copies
        Touch(temp.Path, ".ipynb_checkpoints/4.png");          // not a class
        Touch(temp.Path, "dog/5.png");
        Touch(temp.Path, "dog/notes.txt");
        Directory.CreateDirectory(Path.Combine(temp.Path, "empty"));

        var entries = ImageFolder.List(temp.Path);

        Assert.Equal(["cat/1.png", "dog/5.png"], entries.Select(e => Path.GetRelativePath(temp.Path, e.ImagePath).Replace('\\', '/')));
        Assert.Equal(["empty"], ImageFolder.EmptyClasses(temp.Path));
    }

    [Fact]
    public void Linked_files_and_class_folders_are_read_and_a_link_back_up_the_tree_is_not_followed()
    {
        using var temp = new TempDirectory();
        string data = Path.Combine(temp.Path, "data");
        Touch(temp.Path, "elsewhere/dogs/1.png");
        Touch(temp.Path, "elsewhere/2.png");
        Touch(data, "cat/3.png");
        File.CreateSymbolicLink(Path.Combine(data, "cat", "4.png"), Path.Combine(temp.Path, "elsewhere", "2.png"));
        Directory.CreateSymbolicLink(Path.Combine(data, "cat", "loop"), data);   // would list every class again, forever
        Directory.CreateSymbolicLink(Path.Combine(data, "dog"), Path.Combine(temp.Path, "elsewhere", "dogs"));

        var entries = ImageFolder.List(data);

        Assert.Equal(["cat/3.png", "cat/4.png", "dog/1.png"], entries.Select(e => Path.GetRelativePath(data, e.ImagePath).Replace('\\', '/')));
        Assert.Equal(["cat", "cat", "dog"], entries.Select(e => e.Label));
    }
}
