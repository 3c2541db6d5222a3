using ResNet.MLNet.Applications;
using ResNet.MLNet.Tests.TestSupport;

namespace ResNet.MLNet.Tests.Applications;

/// <summary>The test split of an unsplit image folder follows the toolkit's one stratified rule (the validation split's).</summary>
public class ImageFolderFineTuningTests
{
    [Fact]
    public void An_unsplit_folder_holds_out_at_least_one_image_of_every_class_and_keeps_one_for_training()
    {
        using var folder = new TempDirectory();
        SampleImages.Class(folder.Path, "many", 10);
        SampleImages.Class(folder.Path, "two", 2); // round(2 x 0.2) = 0: still one held out, as validation splits do
        var options = new FineTuneOptions { DataFolder = folder.Path, OutputDirectory = folder.File("out"), TestFraction = 0.2 };

        var (train, test) = ImageFolderFineTuning.Splits(options);

        Assert.Equal(2, test.Count(r => r.Label == "many"));
        Assert.Equal(1, test.Count(r => r.Label == "two"));
        Assert.Equal(1, train.Count(r => r.Label == "two"));
        Assert.Empty(train.Select(r => r.ImagePath).Intersect(test.Select(r => r.ImagePath)));
        Assert.Equal(test.Select(r => r.ImagePath), ImageFolderFineTuning.Splits(options).Test.Select(r => r.ImagePath)); // same seed, same split
    }

    [Fact]
    public void A_class_with_one_image_is_named_in_the_error()
    {
        using var folder = new TempDirectory();
        SampleImages.Class(folder.Path, "many", 4);
        SampleImages.Class(folder.Path, "lonely", 1);
        var options = new FineTuneOptions { DataFolder = folder.Path, OutputDirectory = folder.File("out") };

        var error = Assert.Throws<InvalidDataException>(() => ImageFolderFineTuning.Splits(options));

        Assert.Contains("'lonely' has 1 image", error.Message);
        Assert.Contains("testing", error.Message);
    }

    [Theory]
    [InlineData("val")]         // torchvision's ImageNet layout
    [InlineData("valid")]       // fastai's
    [InlineData("validation")]
    public void A_held_out_split_beside_train_is_found_by_any_of_its_usual_names(string split)
    {
        using var folder = new TempDirectory();
        SampleImages.Class(Path.Combine(folder.Path, "train"), "cat", 3);
        SampleImages.Class(Path.Combine(folder.Path, "train"), "dog", 3);
        SampleImages.Class(Path.Combine(folder.Path, split), "cat", 1);
        SampleImages.Class(Path.Combine(folder.Path, split), "dog", 2);
        var options = new FineTuneOptions { DataFolder = folder.Path, OutputDirectory = folder.File("out") };

        var (train, test) = ImageFolderFineTuning.Splits(options);

        Assert.Equal(["cat", "dog"], train.Select(r => r.Label).Distinct());
        Assert.Equal(6, train.Count);
        Assert.Equal(3, test.Count);
        Assert.All(test, r => Assert.Contains($"{Path.DirectorySeparatorChar}{split}{Path.DirectorySeparatorChar}", r.ImagePath));
        Assert.Equal(test.Select(r => r.ImagePath), ImageFolderFineTuning.EvaluationRows(folder.Path).Select(r => r.ImagePath));
    }

    [Fact]
    public void Train_without_a_held_out_split_is_refused_instead_of_read_as_a_class_named_train()
    {
        using var folder = new TempDirectory();
        SampleImages.Class(Path.Combine(folder.Path, "train"), "cat", 3);
        SampleImages.Class(Path.Combine(folder.Path, "train"), "dog", 3);
        var options = new FineTuneOptions { DataFolder = folder.Path, OutputDirectory = folder.File("out") };

        var error = Assert.Throws<InvalidDataException>(() => ImageFolderFineTuning.Splits(options));
        Assert.Contains("has train/ but no held-out split beside it: add test/ (or val/, valid/, validation/)", error.Message);
        Assert.Throws<InvalidDataException>(() => ImageFolderFineTuning.EvaluationRows(folder.Path));

        SampleImages.Class(Path.Combine(folder.Path, "holdout"), "cat", 1); // not a split name: still refused, not a class
        Assert.Throws<InvalidDataException>(() => ImageFolderFineTuning.Splits(options));
    }
}
