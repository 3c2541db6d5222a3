#!/usr/bin/python3
"""Gradient parity fixtures: one training-mode forward and backward, produced with Debian's torch 1.13 / torchvision 0.14.

Run from the repository root:  /usr/bin/python3 tests/ResNet.MLNet.Tests/Fixtures/parity/make_gradient_fixtures.py

The sinusoid weights of make_parity_fixtures.py make every layer's output channels phase-shifted copies of two
responses, so training-mode BatchNorm divides nearly singular statistics and float32 results depend on rounding
(PyTorch's own float32 and float64 losses differ by 1-10%). Here the weights are hashed instead, full rank and
He-scaled, which the C# tests (TestSupport/DeterministicWeights.FillHashed) compute the same way:

    phase(name) = as in make_parity_fixtures.py
    u(name, i)  = frac(sin(12.9898 * i + phase(name)) * 43758.5453) - 0.5     (float64, uniform in [-0.5, 0.5))
    conv / linear weight : u * sqrt(24 / fan_in)        (variance 2 / fan_in)
    linear / conv bias   : 0.2 * u
    bn weight            : 1 + 0.2 * u,  bn bias: 0.2 * u,  running_mean: 0.1 * u,  running_var: 1 + 0.5 * (u + 0.5)

The network is in training mode (BatchNorm uses the batch statistics); the input is x[i] = sin(0.01 * i) over the flat
C-order index of shape (N, C, H, W); the labels are i mod classes; the loss is the mean cross-entropy. Everything runs
in float64, the reference. For every parameter (torchvision's order) the fixture records the gradient's L2 norm and
its dot product with the probe p[i] = sin(0.13 * i + 1), which catches a gradient of the right size pointing the
wrong way. It also records how far PyTorch's own float32 run is from the reference, the yardstick for the C# float32
tolerance.
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

from make_parity_fixtures import CifarResNet, phase

HERE = os.path.dirname(os.path.abspath(__file__))


def hashed(name, shape):
    n = math.prod(shape)
    v = torch.sin(12.9898 * torch.arange(n, dtype=torch.float64) + phase(name)) * 43758.5453
    u = (v - torch.floor(v) - 0.5).reshape(shape)
    leaf = name.rsplit(".", 1)[-1]
    if leaf == "num_batches_tracked":
        return None
    if leaf == "running_var":
        return 1 + 0.5 * (u + 0.5)
    if leaf == "running_mean":
        return 0.1 * u
    if leaf == "weight" and len(shape) == 1:  # BatchNorm scale
        return 1 + 0.2 * u
    if leaf == "bias":
        return 0.2 * u
    return u * math.sqrt(24 / (n // shape[0]))


def loss_and_gradients(model, shape, classes, dtype):
    with torch.no_grad():
        for name, t in model.state_dict().items():
            v = hashed(name, tuple(t.shape))
            if v is None:
                t.zero_()
            else:
                t.copy_(v)
    model = model.to(dtype).train()
    x = torch.sin(0.01 * torch.arange(math.prod(shape), dtype=torch.float64)).reshape(shape).to(dtype)
    labels = torch.arange(shape[0]) % classes
    loss = F.cross_entropy(model(x), labels)
    loss.backward()
    stats = []
    for key, p in model.named_parameters():
        g = p.grad.double().flatten()
        probe = torch.sin(0.13 * torch.arange(g.numel(), dtype=torch.float64) + 1)
        stats.append({"key": key, "norm": g.norm().item(), "probe": (g * probe).sum().item()})
    return loss.item(), stats


def write(name, make, shape, classes):
    loss, grads = loss_and_gradients(make(), shape, classes, torch.float64)
    loss32, grads32 = loss_and_gradients(make(), shape, classes, torch.float32)
    sizes = [p.numel() for p in make().parameters()]
    float32_error = max(max(abs(a["norm"] - b["norm"]) / b["norm"], abs(a["probe"] - b["probe"]) / (b["norm"] * math.sqrt(n)))
                        for a, b, n in zip(grads32, grads, sizes))
    fixture = {"name": name, "input_shape": list(shape), "classes": classes, "loss": loss,
               "pytorch_float32_loss": loss32, "pytorch_float32_worst_gradient_difference": float32_error, "gradients": grads}
    path = os.path.join(HERE, f"{name}.grad.json")
    with open(path, "w") as f:
        json.dump(fixture, f, indent=0)
    print(f"{path}: loss {loss:.9f} (PyTorch float32 {loss32:.9f}), {len(grads)} gradients, PyTorch float32 worst {float32_error:.2e}")


def gray_resnet18():
    """The Fashion-MNIST setting of `bench fashion-mnist --arch resnet18`: one input channel, 10 classes."""
    model = torchvision.models.resnet18(num_classes=10)
    model.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
    return model


if __name__ == "__main__":
    torch.set_num_threads(2)
    write("resnet18_gray28", gray_resnet18, (8, 1, 28, 28), 10)
    # Bottlenecks and the strided 1x1 downsample (which the toolkit runs subsampled; README, "Platform notes").
    write("resnet50", torchvision.models.resnet50, (4, 3, 64, 64), 1000)
    write("cifar_resnet20", lambda: CifarResNet(3), (4, 3, 32, 32), 10)
