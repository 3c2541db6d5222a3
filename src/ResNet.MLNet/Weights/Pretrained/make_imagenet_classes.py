#!/usr/bin/env python3
"""Writes imagenet_classes.txt: the 1000 ImageNet-1k class names in class-index order, one per line, as torchvision
publishes them with its weights (torchvision.models._meta._IMAGENET_CATEGORIES). Run with Debian's python3-torchvision;
the file is embedded in the library, which never runs Python."""
import os
from torchvision.models._meta import _IMAGENET_CATEGORIES

assert len(_IMAGENET_CATEGORIES) == 1000
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "imagenet_classes.txt"), "w", encoding="utf-8") as f:
    f.write("\n".join(_IMAGENET_CATEGORIES) + "\n")
