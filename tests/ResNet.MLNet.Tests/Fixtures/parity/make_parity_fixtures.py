#!/usr/bin/python3
"""Parity fixtures for the ResNet model zoo, produced with Debian's torch 1.13 / torchvision 0.14.

Run from the repository root:  /usr/bin/python3 tests/ResNet.MLNet.Tests/Fixtures/parity/make_parity_fixtures.py

No weights are shipped. Every parameter and buffer is filled by a formula of its name and element index that the C#
tests (Models/TorchvisionParityTests.cs, DeterministicWeights) compute the same way:

    phase(name) = (sum over characters k=0.. of (k + 1) * ord(c)) mod 997 * 0.01
    s(name, i)  = sin(0.37 * i + phase(name))                 (float64, i = flat C-order index)
    conv / linear weight : s / sqrt(fan_in)      fan_in = numel / shape[0]
    linear / conv bias   : 0.1 * s
    bn weight            : 1 + 0.1 * s
    bn bias, running_mean: 0.1 * s
    bn running_var       : 1 + 0.5 * (s + 1)
    num_batches_tracked  : 0
The input is x[i] = sin(0.01 * i) over the flat C-order index, shape (2, 3, H, W).
Each JSON fixture holds the state_dict key list with shapes (torchvision's order) and the logits.
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))


def phase(name):
    return sum((k + 1) * ord(c) for k, c in enumerate(name)) % 997 * 0.01


def formula(name, shape):
    n = 1
    for d in shape:
        n *= d
    idx = torch.arange(n, dtype=torch.float64)
    s = torch.sin(0.37 * idx + phase(name)).reshape(shape)
    leaf = name.rsplit(".", 1)[-1]
    if leaf == "num_batches_tracked":
        return None
    if leaf == "running_var":
        return 1 + 0.5 * (s + 1)
    if leaf == "running_mean":
        return 0.1 * s
    if leaf == "weight" and len(shape) == 1:  # BatchNorm scale
        return 1 + 0.1 * s
    if leaf == "bias":
        return 0.1 * s
    fan_in = n // shape[0]
    return s / math.sqrt(fan_in)


def fill(model):
    with torch.no_grad():
        for name, t in model.state_dict().items():
            v = formula(name, tuple(t.shape))
            if v is None:
                t.zero_()
            else:
                t.copy_(v.to(t.dtype))
    return model.eval()


def make_input(h, w):
    n = 2 * 3 * h * w
    return torch.sin(0.01 * torch.arange(n, dtype=torch.float64)).reshape(2, 3, h, w).float()


class OptionA(nn.Module):
    """The paper's option A shortcut: subsample, zero-pad the new channels (half before, half after)."""

    def __init__(self, planes_in, planes_out):
        super().__init__()
        self.before = (planes_out - planes_in) // 2
        self.after = planes_out - planes_in - self.before

    def forward(self, x):
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.before, self.after))


class CifarBlock(nn.Module):
    def __init__(self, inp, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = OptionA(inp, planes) if stride != 1 or inp != planes else None

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = out + (x if self.downsample is None else self.downsample(x))
        return F.relu(out)


class CifarResNet(nn.Module):
    """He et al. 2015, section 4.2: 3x3 stem, three stages of 16/32/64 channels, n blocks each, option A."""

    def __init__(self, n, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        inp = 16
        for s, planes in enumerate((16, 32, 64)):
            blocks = []
            for b in range(n):
                blocks.append(CifarBlock(inp, planes, 2 if (s > 0 and b == 0) else 1))
                inp = planes
            setattr(self, f"layer{s + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(x.mean((2, 3)))


def write(name, model, size):
    fill(model)
    x = make_input(size, size)
    with torch.no_grad():
        logits = model(x)
    fixture = {
        "arch": name,
        "input_shape": list(x.shape),
        "parameters": sum(p.numel() for p in model.parameters()),
        "state_dict": [{"key": k, "shape": list(v.shape)} for k, v in model.state_dict().items()],
        "logits": logits.tolist(),
    }
    path = os.path.join(HERE, f"{name}.json")
    with open(path, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"{path}: {len(fixture['state_dict'])} entries, {fixture['parameters']} parameters, logits {tuple(logits.shape)}")


if __name__ == "__main__":
    torch.manual_seed(0)
    write("resnet18", torchvision.models.resnet18(), 64)
    write("resnet50", torchvision.models.resnet50(), 64)
    write("cifar_resnet20", CifarResNet(3), 32)
