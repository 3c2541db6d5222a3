#!/usr/bin/python3
"""Builds data/fashion-mnist: a small real image-folder data set from Debian's dataset-fashion-mnist package.

    apt-get install dataset-fashion-mnist python3-pil
    /usr/bin/python3 data/make_sample_data.py

Writes the first TRAIN_PER_CLASS images of each class from the Fashion-MNIST training set to train/<class>/ and the
first TEST_PER_CLASS images of each class from its test set to test/<class>/, as 28x28 grayscale PNGs named by their
index in the source file. Deterministic: running it again produces the same files.

Larger slices for benchmarks (not committed): --train-per-class N --test-per-class M --out FOLDER.
"""
import argparse
import gzip
import os
import struct

from PIL import Image

SOURCE = "/usr/share/datasets/fashion-mnist"
TARGET = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fashion-mnist")
CLASSES = ["t-shirt_top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle_boot"]
TRAIN_PER_CLASS = 40
TEST_PER_CLASS = 10


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">II", data[8:16])
        return [data[16 + i * rows * cols: 16 + (i + 1) * rows * cols] for i in range(count)], (cols, rows)
    if magic == 2049:
        return list(data[8:8 + count]), None
    raise ValueError(f"{path}: not an IDX image or label file (magic {magic})")


def export(split, prefix, per_class, target=TARGET):
    images, size = read_idx(os.path.join(SOURCE, f"{prefix}-images-idx3-ubyte.gz"))
    labels, _ = read_idx(os.path.join(SOURCE, f"{prefix}-labels-idx1-ubyte.gz"))
    taken = [0] * len(CLASSES)
    for index, (pixels, label) in enumerate(zip(images, labels)):
        if taken[label] >= per_class:
            continue
        folder = os.path.join(target, split, CLASSES[label])
        os.makedirs(folder, exist_ok=True)
        Image.frombytes("L", size, pixels).save(os.path.join(folder, f"{index:05d}.png"), optimize=True)
        taken[label] += 1
        if all(t >= per_class for t in taken):
            break
    print(f"{split}: {sum(taken)} images in {len(CLASSES)} classes")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-per-class", type=int, default=TRAIN_PER_CLASS)
    parser.add_argument("--test-per-class", type=int, default=TEST_PER_CLASS)
    parser.add_argument("--out", default=TARGET)
    args = parser.parse_args()
    export("train", "train", args.train_per_class, args.out)
    export("test", "t10k", args.test_per_class, args.out)
