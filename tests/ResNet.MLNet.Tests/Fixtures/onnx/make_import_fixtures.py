#!/usr/bin/python3
"""Fixtures for the ONNX weight importer (Weights/OnnxWeightsImporterTests.cs), made with Debian's torch 1.13 /
torchvision 0.14 / onnx 1.12.

Run from the repository root:  /usr/bin/python3 tests/ResNet.MLNet.Tests/Fixtures/onnx/make_import_fixtures.py

Two small networks with torchvision's ResNet code and state_dict layout (torchvision.models.resnet.ResNet's
_make_layer and _forward_impl, with narrower stages so the files stay small), seeded random weights and BatchNorms
perturbed so that folding them matters, exported by torch.onnx.export in eval mode: every BatchNorm is folded into
the convolution before it (Conv with a bias, no BatchNormalization node).

    folded_basic.onnx       BasicBlock, layers [2, 1, 1, 1], stage widths [8, 16, 32, 64], stem 8, 10 classes
    folded_bottleneck.onnx  Bottleneck, layers [1, 1, 1, 1], stage widths [8, 16, 32, 64], stem 8, groups 2,
                            width_per_group 32, 10 classes
Each NAME.json holds the architecture, the input shape and the logits for the input x[i] = sin(0.01 * i) over the
flat C-order index, shape (2, 3, 64, 64) (DeterministicWeights.Input in the tests).
"""
import json
import os

import onnx
import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

HERE = os.path.dirname(os.path.abspath(__file__))


class NarrowResNet(ResNet):
    """torchvision's ResNet with the stage widths and stem width as parameters (torchvision fixes them at 64 .. 512)."""

    def __init__(self, block, layers, widths, stem, num_classes, groups=1, width_per_group=64):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = stem
        self.dilation = 1
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, stem, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, widths[0], layers[0])
        self.layer2 = self._make_layer(block, widths[1], layers[1], stride=2)
        self.layer3 = self._make_layer(block, widths[2], layers[2], stride=2)
        self.layer4 = self._make_layer(block, widths[3], layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3] * block.expansion, num_classes)


def export(name, block, layers, seed, **kwargs):
    torch.manual_seed(seed)
    model = NarrowResNet(block, layers, widths=[8, 16, 32, 64], stem=8, num_classes=10, **kwargs)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                c = module.num_features
                module.running_mean.copy_(torch.randn(c) * 0.1)
                module.running_var.copy_(torch.rand(c) + 0.5)
                module.weight.copy_(torch.rand(c) * 0.4 + 0.2)
                module.bias.copy_(torch.randn(c) * 0.1)
    model.eval()
    x = torch.sin(torch.arange(2 * 3 * 64 * 64, dtype=torch.float64) * 0.01).reshape(2, 3, 64, 64).float()
    path = os.path.join(HERE, name + ".onnx")
    torch.onnx.export(model, x, path, input_names=["input"], output_names=["logits"], opset_version=13,
                      do_constant_folding=True, training=torch.onnx.TrainingMode.EVAL)
    graph = onnx.load(path).graph
    ops = [n.op_type for n in graph.node]
    assert "BatchNormalization" not in ops, ops  # the point of the fixture: every BatchNorm folded
    with torch.no_grad():
        logits = model(x)
    fixture = {
        "block": block.__name__,
        "layers": layers,
        "stage_widths": [8, 16, 32, 64],
        "stem_width": 8,
        "groups": kwargs.get("groups", 1),
        "width_per_group": kwargs.get("width_per_group", 64),
        "num_classes": 10,
        "input_shape": list(x.shape),
        "conv_nodes": ops.count("Conv"),
        "logits": [float(v) for v in logits.flatten()],
    }
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump(fixture, f, indent=1)
    print(name, os.path.getsize(path), "bytes,", ops.count("Conv"), "Conv nodes, ops:", sorted(set(ops)))


export("folded_basic", BasicBlock, [2, 1, 1, 1], seed=1)
export("folded_bottleneck", Bottleneck, [1, 1, 1, 1], seed=2, groups=2, width_per_group=32)
