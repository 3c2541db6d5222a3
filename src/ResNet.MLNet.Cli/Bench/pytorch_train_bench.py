#!/usr/bin/python3
"""Peer measurement for `resnet-mlnet bench train`: training images/s of PyTorch on the torchvision ResNet.

Runs the same step as ResNetTrainer: uint8 batch -> float in [0, 1] -> ImageNet normalization, forward,
cross-entropy, backward, SGD with momentum 0.9 and weight decay 1e-4, loss.item(). Eager, NCHW, float32;
with --bf16 the forward runs under torch.autocast("cpu", dtype=torch.bfloat16). Prints one JSON line.
With --profile it prints instead where a step's time goes, as `bench train --profile` measures the toolkit: forward
and backward of each part (stem, stages, head + loss) alone, every convolution alone summed by kind, and the
optimizer's step, best of --steps repetitions, in milliseconds per batch.
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


def best_of(repeats, fn):
    times = []
    for r in range(repeats + 1):  # one untimed warm-up
        times.append(fn())
    return min(times[1:])


def time_part(run, x, needs_input_grad, model, repeats):
    results = []
    for r in range(repeats + 1):
        inp = x.detach().requires_grad_(needs_input_grad)
        start = time.perf_counter()
        y = run(inp)
        forward = time.perf_counter() - start
        start = time.perf_counter()
        y.backward(None if y.dim() == 0 else torch.ones_like(y))
        backward = time.perf_counter() - start
        model.zero_grad(set_to_none=True)
        if r > 0:
            results.append((forward, backward))
    return min(f for f, _ in results) * 1000, min(b for _, b in results) * 1000


def conv_kind(conv, name):
    k, s, g = conv.kernel_size[0], conv.stride[0], conv.groups
    return f"{k}x{k}" + (f"/{s}" if s > 1 else "") + (" grouped" if g > 1 else "") + (" shortcut" if "downsample" in name else "")


def profile(a, model):
    torch.manual_seed(0)
    n, size = a.batch_size, a.image_size
    images = torch.randn(n, 3, size, size)
    labels = torch.randint(0, a.num_classes, (n,))
    stages = [getattr(model, f"layer{i}") for i in range(1, 5)]
    parts = [("stem", lambda x: model.maxpool(model.relu(model.bn1(model.conv1(x)))))]
    parts += [(f"layer{i + 1}", stage) for i, stage in enumerate(stages)]
    parts.append(("head + loss", lambda x: F.cross_entropy(model.fc(torch.flatten(model.avgpool(x), 1)), labels)))
    inputs = [images]
    conv_inputs = {}
    hooks = [m.register_forward_hook(lambda mod, inp, out, name=name: conv_inputs.__setitem__(name, inp[0].shape))
             for name, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        for _, run in parts[:-1]:
            inputs.append(run(inputs[-1]))
    for h in hooks:
        h.remove()
    out_parts = []
    for i, (name, run) in enumerate(parts):
        f, b = time_part(run, inputs[i], i > 0, model, a.steps)
        out_parts.append({"part": name, "forward_ms": f, "backward_ms": b, "count": 1})
    kinds = {}
    for name, m in model.named_modules():
        if not isinstance(m, torch.nn.Conv2d):
            continue
        f, b = time_part(m, torch.randn(conv_inputs[name]), name != "conv1", model, a.steps)
        k = conv_kind(m, name)
        acc = kinds.setdefault(k, {"part": k, "forward_ms": 0.0, "backward_ms": 0.0, "count": 0})
        acc["forward_ms"] += f
        acc["backward_ms"] += b
        acc["count"] += 1
    F.cross_entropy(model(images), labels).backward()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)

    def step():
        start = time.perf_counter()
        opt.step()
        return (time.perf_counter() - start) * 1000
    optimizer_ms = best_of(a.steps + 1, step)

    def whole_step():
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        opt.step()
        loss.item()
        return (time.perf_counter() - start) * 1000
    step_ms = best_of(a.steps, whole_step)
    print(json.dumps({
        "parts": out_parts,
        "convs": sorted(kinds.values(), key=lambda c: -(c["forward_ms"] + c["backward_ms"])),
        "optimizer_ms": optimizer_ms, "step_ms": step_ms,
        "torch": torch.__version__, "torchvision": torchvision.__version__, "threads": torch.get_num_threads(),
    }))


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
    p.add_argument("--profile", action="store_true")
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = build(a.arch, a.num_classes).train()
    if a.profile:
        profile(a, model)
        return
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
