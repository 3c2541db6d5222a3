namespace ResNet.MLNet;

/// <summary>The named networks of the zoo. <see cref="Models.ResNetModels.Name"/> gives each one's registry name.</summary>
public enum ResNetArchitecture
{
    /// <summary>torchvision resnet18: basic blocks [2, 2, 2, 2], 11.7M parameters.</summary>
    ResNet18,
    /// <summary>torchvision resnet34: basic blocks [3, 4, 6, 3], 21.8M parameters.</summary>
    ResNet34,
    /// <summary>torchvision resnet50 (v1.5): bottleneck blocks [3, 4, 6, 3], 25.6M parameters.</summary>
    ResNet50,
    /// <summary>torchvision resnet101: bottleneck blocks [3, 4, 23, 3], 44.5M parameters.</summary>
    ResNet101,
    /// <summary>torchvision resnet152: bottleneck blocks [3, 8, 36, 3], 60.2M parameters.</summary>
    ResNet152,
    /// <summary>torchvision wide_resnet50_2: bottlenecks twice as wide, 68.9M parameters.</summary>
    WideResNet50_2,
    /// <summary>torchvision resnext50_32x4d: 32 groups of width 4, 25.0M parameters.</summary>
    ResNeXt50_32x4d,
    /// <summary>torchvision resnext101_32x8d: bottleneck blocks [3, 4, 23, 3], 32 groups of width 8, 88.8M parameters.</summary>
    ResNeXt101_32x8d,
    /// <summary>torchvision resnext101_64x4d: bottleneck blocks [3, 4, 23, 3], 64 groups of width 4, 83.5M parameters.</summary>
    ResNeXt101_64x4d,
    /// <summary>torchvision wide_resnet101_2: ResNet-101 with bottlenecks twice as wide, 126.9M parameters.</summary>
    WideResNet101_2,
    /// <summary>
    /// ML.NET's "ResNet-18" (the network of <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>, pretrained weights
    /// <c>resnet18.mlnet_in1k</c>): torchvision's ResNet-18 layout with a third basic block in the last stage, [2, 2, 2, 3], 15.9M parameters without a head.
    /// </summary>
    MLNetResNet18,
    /// <summary>SE-ResNet-50 (timm seresnet50): ResNet-50 with squeeze-and-excitation, 28.1M parameters.</summary>
    SeResNet50,
    /// <summary>Pre-activation ResNet-18 (BN-ReLU-conv blocks).</summary>
    PreActResNet18,
    /// <summary>Pre-activation ResNet-50.</summary>
    PreActResNet50,
    /// <summary>Plain 18-layer network: ResNet-18 without shortcuts.</summary>
    Plain18,
    /// <summary>Plain 34-layer network: ResNet-34 without shortcuts (the paper's Figure 4 baseline).</summary>
    Plain34,
    /// <summary>CIFAR ResNet-20 (3 x 3 blocks, 16/32/64 channels, option A shortcuts), 0.27M parameters.</summary>
    CifarResNet20,
    /// <summary>CIFAR ResNet-32.</summary>
    CifarResNet32,
    /// <summary>CIFAR ResNet-44.</summary>
    CifarResNet44,
    /// <summary>CIFAR ResNet-56.</summary>
    CifarResNet56,
    /// <summary>CIFAR ResNet-110.</summary>
    CifarResNet110,
    /// <summary>CIFAR plain-20 (no shortcuts).</summary>
    CifarPlain20,
    /// <summary>CIFAR plain-56 (no shortcuts).</summary>
    CifarPlain56,
}
