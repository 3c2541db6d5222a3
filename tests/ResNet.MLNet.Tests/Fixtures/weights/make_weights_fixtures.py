#!/usr/bin/python3
"""Writes the weight-file fixtures of tests/ResNet.MLNet.Tests/Weights with the reference PyTorch (Debian's torch 1.13).

Run from anywhere with the system Python (it has torch):
    /usr/bin/python3 tests/ResNet.MLNet.Tests/Fixtures/weights/make_weights_fixtures.py

Other modes, used by the C# tests when /usr/bin/python3 has torch and torchvision:
    --check-pth WRITTEN REFERENCE   torch.load(WRITTEN, weights_only=True) must equal REFERENCE (keys, order, dtypes, values)
    --torchvision DIR               writes DIR/<arch>.pth and DIR/<arch>_io.pth ({'input', 'logits'}) for resnet18 and resnet50

Python is a fixture tool only: the tests read the committed files and never need it.
"""
import collections
import copy
import json
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
PWNED = "/tmp/resnet_mlnet_weights_pwned"  # the hostile fixtures try to create this file when unpickled


def path(name):
    return os.path.join(HERE, name)


# ---------------------------------------------------------------- every dtype

def dtype_tensors():
    floats = [0.5, -1.25, 2.0, 1024.0, 3.140625, -0.0078125]  # exact in f16, bf16, f32, f64
    sd = collections.OrderedDict()
    sd["f32"] = torch.tensor(floats, dtype=torch.float32).reshape(2, 3)
    sd["f16"] = torch.tensor(floats, dtype=torch.float16).reshape(3, 2)
    sd["bf16"] = torch.tensor(floats, dtype=torch.bfloat16)
    sd["f64"] = torch.tensor(floats, dtype=torch.float64).reshape(1, 2, 3)
    sd["i64"] = torch.tensor([2 ** 40, -5, 0, 2 ** 63 - 1], dtype=torch.int64)
    sd["i32"] = torch.tensor([2 ** 31 - 1, -(2 ** 31), 7], dtype=torch.int32)
    sd["i16"] = torch.tensor([-32768, 32767, 1], dtype=torch.int16)
    sd["i8"] = torch.tensor([-128, 127, 0, -1], dtype=torch.int8)
    sd["u8"] = torch.tensor([0, 255, 128], dtype=torch.uint8)
    sd["bool"] = torch.tensor([True, False, True], dtype=torch.bool)
    sd["scalar_i64"] = torch.tensor(7, dtype=torch.int64)  # 0-d, like num_batches_tracked
    sd["empty_f32"] = torch.zeros(0, 3)
    return sd


def describe(sd):
    """name -> dtype, shape and values in C order (floats as Python floats, bools as 0/1)."""
    return {k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape),
                "values": [int(x) if not v.is_floating_point() else float(x) for x in v.contiguous().flatten().tolist()]}
            for k, v in sd.items()}


# ---------------------------------------------------------------- views and shared storage

def view_tensors():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    sd = collections.OrderedDict()
    sd["base"] = base
    sd["transposed"] = base.t()           # strides (1, 6)
    sd["sliced"] = base[1:3, ::2]         # offset 6, strides (6, 2)
    sd["row"] = base[2]                   # contiguous, offset 12
    sd["column"] = base[:, 1]             # offset 1, stride 6
    sd["element"] = base[3, 5]            # 0-d, offset 23
    sd["same_as_base"] = base             # the same tensor twice
    return sd


# ---------------------------------------------------------------- a tiny network and its wrappers

class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 2)


def tiny_state_dict():
    torch.manual_seed(1)
    m = Tiny()
    with torch.no_grad():
        m.bn1.running_mean.uniform_(-1, 1)
        m.bn1.running_var.uniform_(0.5, 2)
        m.bn1.num_batches_tracked.fill_(3)
    return m, m.state_dict()


# ---------------------------------------------------------------- the paper's CIFAR ResNet-20 (option A shortcuts)

class BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = (planes - in_planes) // 2 if stride != 1 or in_planes != planes else None

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.pad is None else F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + shortcut)


class CifarResNet(nn.Module):
    """Keys as ResNetModels.CifarResNet(20): conv1, bn1, layer1..3 of BasicBlocks, fc."""

    def __init__(self, n=3, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        widths, in_planes = [16, 32, 64], 16
        for i, planes in enumerate(widths):
            blocks = []
            for b in range(n):
                blocks.append(BasicBlock(in_planes, planes, 2 if i > 0 and b == 0 else 1))
                in_planes = planes
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        return self.fc(out.mean([2, 3]))


def calibrate(model, shape, batches=2):
    """Realistic BatchNorm statistics: cumulative averages over random batches, then eval mode."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None
    model.train()
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn(*shape))
    model.eval()
    return model


# ---------------------------------------------------------------- hostile pickles (never unpickle these)

class Evil:
    def __reduce__(self):
        return (os.system, (f"touch {PWNED}",))


class EvilEval:
    def __reduce__(self):
        return (eval, (f"__import__('os').system('touch {PWNED}')",))


# ---------------------------------------------------------------- safetensors by the spec (the package is not on Debian 12)

SAFETENSORS_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
                      torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
                      torch.uint8: "U8", torch.bool: "BOOL"}


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: take the bits
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    return t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()


def write_safetensors(file, sd, metadata=None):
    """The format of FORMATS.md §2, tensors in the order given, header padded with spaces to a multiple of 8."""
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in sd.items():
        data = tensor_bytes(t)
        header[name] = {"dtype": SAFETENSORS_DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(file, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


def write_json(file, obj):
    with open(file, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


def make_fixtures():
    sd = dtype_tensors()
    torch.save(sd, path("dtypes.pth"))
    torch.save(sd, path("dtypes_protocol4.pth"), pickle_protocol=4)
    torch.save(sd, path("dtypes_legacy.pth"), _use_new_zipfile_serialization=False)
    write_json(path("dtypes.json"), describe(sd))
    write_safetensors(path("dtypes.safetensors"), sd)

    views = view_tensors()
    torch.save(views, path("views.pth"))
    torch.save(views, path("views_legacy.pth"), _use_new_zipfile_serialization=False)
    write_json(path("views.json"), describe(views))

    model, tiny = tiny_state_dict()
    torch.save(tiny, path("tiny.pth"))
    torch.save({"state_dict": tiny, "epoch": 3, "arch": "tiny", "best_acc1": 0.5}, path("tiny_wrapped_state_dict.pth"))
    trained = copy.deepcopy(model)
    optimizer = torch.optim.SGD(trained.parameters(), lr=0.1, momentum=0.9)
    for p in trained.parameters():
        p.grad = torch.ones_like(p)
    optimizer.step()  # momentum buffers: tensors outside the state_dict
    torch.save({"model": tiny, "optimizer": optimizer.state_dict(), "epoch": 7}, path("tiny_wrapped_model.pth"))
    torch.save({"model_state": tiny}, path("tiny_wrapped_model_state.pth"))
    torch.save(nn.DataParallel(model).state_dict(), path("tiny_dataparallel.pth"))
    write_safetensors(path("tiny.safetensors"), tiny, {"architecture": "tiny", "num_classes": "2"})

    torch.save({"weights": Evil()}, path("hostile_system.pth"))
    torch.save({"weights": EvilEval()}, path("hostile_eval_protocol4.pth"), pickle_protocol=4)
    torch.save({"weights": Evil()}, path("hostile_system_legacy.pth"), _use_new_zipfile_serialization=False)

    torch.manual_seed(20)
    net = calibrate(CifarResNet(), (16, 3, 32, 32))
    torch.save(net.state_dict(), path("cifar_resnet20.pth"))
    x = (torch.randint(-512, 512, (2, 3, 32, 32)) / 256.0).float()  # multiples of 1/256: short and exact in JSON
    with torch.no_grad():
        logits = net(x)
    write_json(path("cifar_resnet20.json"), {"input_shape": list(x.shape), "input": x.flatten().tolist(),
                                             "logits_shape": list(logits.shape), "logits": logits.flatten().tolist()})

    total = sum(os.path.getsize(path(f)) for f in os.listdir(HERE) if not f.endswith(".py"))
    print(f"fixtures written to {HERE}: {total} bytes")


def check_pth(written, reference):
    a = torch.load(written, weights_only=True)
    b = torch.load(reference, weights_only=True)
    assert list(a.keys()) == list(b.keys()), (list(a.keys())[:5], list(b.keys())[:5])
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and torch.equal(a[k], b[k]), k
    print(f"OK: torch {torch.__version__} loaded {len(a)} tensors from {written} with weights_only=True; all equal {reference}")


def torchvision_checkpoints(out_dir):
    import torchvision
    for arch in ["resnet18", "resnet50"]:
        torch.manual_seed(0)
        model = calibrate(getattr(torchvision.models, arch)(), (4, 3, 224, 224), batches=1)
        torch.save(model.state_dict(), os.path.join(out_dir, f"{arch}.pth"))
        x = torch.randn(2, 3, 224, 224)
        with torch.no_grad():
            logits = model(x)
        torch.save({"input": x, "logits": logits}, os.path.join(out_dir, f"{arch}_io.pth"))
        print(f"{arch}: {sum(p.numel() for p in model.parameters())} parameters, logits max |y| {logits.abs().max():.4f}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--check-pth":
        check_pth(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "--torchvision":
        torchvision_checkpoints(sys.argv[2])
    elif len(sys.argv) == 1:
        make_fixtures()
    else:
        sys.exit(__doc__)
