"""A 70,000-image class-per-folder PNG tree to shards, against torchvision's ImageFolder + DataLoader over it.

The tree: all of MNIST (../shared/data/idx/mnist-full, 60,000 train + 10,000 test) written as
``<root>/train|test/<digit>/<index>.png``, 8-bit grey PNGs, the layout of rasbt/mnist-pngs and Kaggle downloads
(synthetic glyphs when the real files are absent).

* charbench: one whole ``charbench prepare imagefolder`` in a fresh interpreter (start-up, scan of the names, decoding
  on every worker, shards, index.json), default workers;
* baseline: ``torchvision.datasets.ImageFolder`` (Grayscale + ToTensor) of each split folder through a
  ``torch.utils.data.DataLoader`` (batch 256) that stacks every batch, with 0 workers and with one per core; the
  faster of the two counts. It only decodes and stacks: it writes nothing.

Target (issue 16): charbench >= 3x faster. Both sides run ``--repeat`` times, interleaved; the fastest of each counts.

    python benchmarks/bench_imagefolder.py [--images 70000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, report
from _torchvision import import_torchvision

REPO = Path(__file__).resolve().parents[1]
MNIST = REPO.parent / "shared" / "data" / "idx" / "mnist-full" / "MNIST" / "raw"


def mnist_arrays(images: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], str]:
    """MNIST's train and test images and labels (the first ``images`` in all), or synthetic glyphs."""
    if MNIST.is_dir():
        def read(name, offset, shape):
            return np.frombuffer(gzip.decompress((MNIST / name).read_bytes()), np.uint8, offset=offset).reshape(shape)

        x = {"train": read("train-images-idx3-ubyte.gz", 16, (-1, 28, 28)),
             "test": read("t10k-images-idx3-ubyte.gz", 16, (-1, 28, 28))}
        y = {"train": read("train-labels-idx1-ubyte.gz", 8, (-1,)), "test": read("t10k-labels-idx1-ubyte.gz", 8, (-1,))}
        corpus = "real MNIST"
    else:
        from charbench.synth.glyphs import GlyphGenerator, assign

        gen = GlyphGenerator(10, 0)
        x, y = {}, {}
        for split, n in (("train", images * 6 // 7), ("test", images // 7)):
            labels, writers = assign(10, -(-n // 10), 40, split == "test")
            x[split], y[split] = gen.images(labels[:n], writers[:n], 28), labels[:n]
        corpus = "synthetic glyphs"
    share = images / (len(y["train"]) + len(y["test"]))
    for split in x:
        n = round(len(y[split]) * share)
        x[split], y[split] = x[split][:n], y[split][:n]
    return x, y, corpus


def write_tree(root: Path, images: int) -> str:
    x, y, corpus = mnist_arrays(images)
    for split in x:
        for digit in range(10):
            (root / split / str(digit)).mkdir(parents=True, exist_ok=True)
        for i, (img, label) in enumerate(zip(x[split], y[split])):
            (root / split / str(label) / f"{i:05d}.png").write_bytes(cv2.imencode(".png", img)[1].tobytes())
    return corpus


def charbench_seconds(root: Path, out: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "charbench", "prepare", "imagefolder", "--name", "png-tree", "--source", str(root),
           "--out", str(out), "--force", "--quiet"]
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True)
    return time.perf_counter() - start


def torchvision_seconds(root: Path, workers: int) -> float:
    import torch

    tv = import_torchvision()
    transform = tv.transforms.Compose([tv.transforms.Grayscale(), tv.transforms.ToTensor()])
    start = time.perf_counter()
    count = 0
    for split in ("train", "test"):
        dataset = tv.datasets.ImageFolder(str(root / split), transform=transform)
        for images, _ in torch.utils.data.DataLoader(dataset, batch_size=256, num_workers=workers):
            count += len(images)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=70_000, help="images in the tree (default all of MNIST)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "tree"
        corpus = write_tree(root, args.images)
        n = sum(1 for _ in root.rglob("*.png"))
        print(f"{n:,} PNGs ({corpus}); {machine()}")
        charbench_seconds(root, Path(tmp) / "warm")  # numba's cache and the page cache warm
        times: dict[str, float] = {}
        for _ in range(args.repeat):
            for name, run in (("charbench", lambda: charbench_seconds(root, Path(tmp) / "out")),
                              ("torchvision, 0 workers", lambda: torchvision_seconds(root, 0)),
                              (f"torchvision, {cores} workers", lambda: torchvision_seconds(root, cores))):
                t = run()
                times[name] = min(t, times.get(name, t))
        for name, t in times.items():
            print(f"{name:<24} {t:6.2f} s  ({n / t:,.0f} images/s)")
        baseline = min(v for k, v in times.items() if k.startswith("torchvision"))
        ratio = baseline / times["charbench"]
    report("imagefolder_prepare_vs_torchvision", ratio, "torchvision ImageFolder + DataLoader pass (best of 0 and "
           f"{cores} workers)", ">= 3x", images=n, corpus=corpus,
           seconds={k: round(v, 2) for k, v in times.items()})
    return 0 if ratio >= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
