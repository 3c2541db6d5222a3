#!/usr/bin/python3
"""Writes the fixtures of the predict tests (ImageTensor preprocessing and `resnet-mlnet predict`) with the reference
PyTorch (Debian's torch 1.13, torchvision 0.14, Pillow).

Run from anywhere with the system Python:
    /usr/bin/python3 tests/ResNet.MLNet.Tests/Fixtures/predict/make_predict_fixtures.py

It writes, next to itself:
    pattern.png            300x200 RGB test image (gradients, stripes and a checkerboard: resampling has work to do)
    gray.png               30x20 grayscale image
    preprocess.json        torchvision's preprocessed tensors for a few (image, resize, crop, mean, std) cases
    cifar_resnet20.json    logits of ../weights/cifar_resnet20.pth for the predict cases, with torchvision preprocessing

Other mode, used by the C# tests when /usr/bin/python3 has torch and torchvision:
    --resnet50 DIR         writes DIR/resnet50.pth (seeded torchvision resnet50, calibrated BatchNorm, ~100 MB) and
                           DIR/resnet50.json (its logits for pattern.png, resize 256, crop 224, ImageNet normalization)

The preprocessing is torchvision's on a tensor: to_tensor(PIL RGB image), resize(shorter side, bilinear,
antialias=True), center_crop, normalize. Python is a fixture tool only; the product never needs it.
"""
import os
import sys

import numpy as np
import torch
import torchvision.transforms.functional as TF
from PIL import Image
from torchvision.transforms import InterpolationMode

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "weights"))
from make_weights_fixtures import CifarResNet, calibrate, write_json  # noqa: E402  (the committed CIFAR ResNet-20, its BN calibration)

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
CIFAR_MEAN = [0.4914, 0.4822, 0.4465]
CIFAR_STD = [0.247, 0.2435, 0.2616]


def path(*parts):
    return os.path.join(HERE, *parts)


def make_images():
    y, x = np.mgrid[0:200, 0:300]
    r = x * 255 // 299
    g = y * 255 // 199
    b = np.where((x // 4 + y // 4) % 2 == 0, 230, 25)                 # 4-pixel checkerboard
    b = np.where(x < 150, b, (128 + 120 * np.sin(x * 0.9)).astype(int))  # fine stripes on the right half
    g = np.where((y > 80) & (y < 120) & (x % 3 == 0), 255 - g, g)      # a band of 1-pixel lines
    rgb = np.stack([r, g, b], axis=-1).astype(np.uint8)
    Image.fromarray(rgb, "RGB").save(path("pattern.png"), optimize=True)

    gy, gx = np.mgrid[0:20, 0:30]
    gray = ((gx * 7 + gy * 11) % 256).astype(np.uint8)
    Image.fromarray(gray, "L").save(path("gray.png"), optimize=True)


def preprocess(image_path, resize, crop, mean, std):
    """torchvision on a float tensor: to_tensor(RGB) -> resize -> center_crop -> normalize; shape (3, crop, crop)."""
    img = TF.to_tensor(Image.open(image_path).convert("RGB"))
    img = TF.resize(img, resize, interpolation=InterpolationMode.BILINEAR, antialias=True)
    img = TF.center_crop(img, crop)
    return TF.normalize(img, mean, std)


# (image, resize, crop, mean, std): shrinking, padding (crop larger than the resized image), enlarging a grayscale image
PREPROCESS_CASES = [
    ("pattern.png", 20, 16, IMAGENET_MEAN, IMAGENET_STD),
    ("pattern.png", 21, 25, [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]),
    ("gray.png", 47, 24, [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]),
]

# (image, resize, crop, mean, std) for `predict --arch cifar_resnet20 --weights cifar_resnet20.pth`
CIFAR_CASES = [
    ("pattern.png", 36, 32, CIFAR_MEAN, CIFAR_STD),
    ("gray.png", 32, 32, IMAGENET_MEAN, IMAGENET_STD),
]


def rounded(values):
    """float32 values with the 9 significant digits that identify them: short JSON, exact round trip."""
    return [float(f"{v:.9g}") for v in values]


def make_fixtures():
    make_images()
    cases = []
    for image, resize, crop, mean, std in PREPROCESS_CASES:
        t = preprocess(path(image), resize, crop, mean, std)
        cases.append({"image": image, "resize": resize, "crop": crop, "mean": mean, "std": std,
                      "shape": list(t.shape), "values": rounded(t.flatten().tolist())})
    write_json(path("preprocess.json"), cases)

    net = CifarResNet()
    net.load_state_dict(torch.load(path("..", "weights", "cifar_resnet20.pth")))
    net.eval()
    results = []
    for image, resize, crop, mean, std in CIFAR_CASES:
        with torch.no_grad():
            logits = net(preprocess(path(image), resize, crop, mean, std).unsqueeze(0))[0]
        results.append({"image": image, "resize": resize, "crop": crop, "mean": mean, "std": std, "logits": rounded(logits.tolist())})
    write_json(path("cifar_resnet20.json"), results)
    total = sum(os.path.getsize(path(f)) for f in os.listdir(HERE) if not f.endswith(".py"))
    print(f"fixtures written to {HERE}: {total} bytes")


def resnet50(out_dir):
    import torchvision
    torch.manual_seed(50)
    model = calibrate(torchvision.models.resnet50(), (4, 3, 224, 224), batches=1)
    torch.save(model.state_dict(), os.path.join(out_dir, "resnet50.pth"))
    x = preprocess(path("pattern.png"), 256, 224, IMAGENET_MEAN, IMAGENET_STD).unsqueeze(0)
    with torch.no_grad():
        logits = model(x)[0]
    write_json(os.path.join(out_dir, "resnet50.json"), {"image": "pattern.png", "resize": 256, "crop": 224, "logits": rounded(logits.tolist())})
    print(f"resnet50: torch {torch.__version__}, torchvision {torchvision.__version__}, logits max |y| {logits.abs().max():.4f}, "
          f"top-1 {int(logits.argmax())}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--resnet50":
        resnet50(sys.argv[2])
    elif len(sys.argv) == 1:
        make_fixtures()
    else:
        sys.exit(__doc__)
