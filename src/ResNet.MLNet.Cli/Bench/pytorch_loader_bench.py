"""The PyTorch peer of `resnet-mlnet bench loader`: torchvision's ImageFolder with the training transforms of the
toolkit's streaming loader (RandomResizedCrop with scale (0.08, 1), horizontal flip, ColorJitter(0.2, 0.2, 0.2),
ToTensor, Normalize with ImageNet's mean and std) through a DataLoader with the same worker count, batch size and
shuffling. Prints one JSON line: images/s over the timed batches (after the warm-up batches). Not part of the product."""
import argparse
import json
import time

import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--image-size", type=int, default=224)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--workers", type=int, default=2)
parser.add_argument("--batches", type=int, default=40)
parser.add_argument("--warmup", type=int, default=2)
args = parser.parse_args()

torch.manual_seed(0)
transform = transforms.Compose([
    transforms.RandomResizedCrop(args.image_size, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3), antialias=True),
    transforms.RandomHorizontalFlip(),
    transforms.ColorJitter(0.2, 0.2, 0.2),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])
dataset = datasets.ImageFolder(args.data, transform=transform)
loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True, num_workers=args.workers, drop_last=True,
                    prefetch_factor=2 if args.workers > 0 else None, persistent_workers=False)
started = time.perf_counter()
images = 0
timed_from = None
for i, (x, y) in enumerate(loader):
    if i == 0:
        first = time.perf_counter() - started
    if i == args.warmup:
        timed_from = time.perf_counter()
    elif i > args.warmup:
        images += x.shape[0]
    if i == args.warmup + args.batches:
        break
elapsed = time.perf_counter() - timed_from
print(json.dumps({"img_per_s": images / elapsed, "first_batch_s": first, "images": images, "torch": torch.__version__,
                  "workers": args.workers}))
