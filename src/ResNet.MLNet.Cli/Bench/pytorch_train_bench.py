#!/usr/bin/python3
"""Peer measurement for `resnet-mlnet bench train`: training images/s of PyTorch on the torchvision ResNet.

Runs the same step as ResNetTrainer: uint8 batch -> float in [0, 1] -> ImageNet normalization, forward,
cross-entropy, backward, SGD with momentum 0.9 and weight decay 1e-4, loss.item(). Eager, NCHW, float32;
with --bf16 the forward runs under torch.autocast("cpu", dtype=torch.bfloat16). Prints one JSON line.
A benchmark tool only: Python is not part of the product.
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F
import torchvision


def build(arch, num_classes):
    if arch.startswith("cifar_"):
        raise SystemExit(f"torchvision has no {arch}")
    return getattr(torchvision.models, arch)(weights=None, num_classes=num_classes)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", required=True)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--num-classes", type=int, default=1000)
    p.add_argument("--bf16", action="store_true")
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = build(a.arch, a.num_classes).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    n = a.batch_size
    images = torch.randint(0, 256, (n * (a.warmup + a.steps), 3, a.image_size, a.image_size), dtype=torch.uint8)
    labels = torch.randint(0, a.num_classes, (n * (a.warmup + a.steps),))

    def step(i):
        x = (images[i * n:(i + 1) * n].float() / 255 - mean) / std
        y = labels[i * n:(i + 1) * n]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    for i in range(a.warmup):
        step(i)
    start = time.perf_counter()
    for i in range(a.warmup, a.warmup + a.steps):
        step(i)
    seconds = time.perf_counter() - start
    print(json.dumps({
        "arch": a.arch, "batch_size": n, "image_size": a.image_size, "steps": a.steps, "bf16": a.bf16,
        "threads": torch.get_num_threads(), "torch": torch.__version__, "torchvision": torchvision.__version__,
        "img_per_s": n * a.steps / seconds,
    }))


if __name__ == "__main__":
    main()
