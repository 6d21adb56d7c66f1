"""Omniglot's background set (19,280 PNGs) to shards, from the zip and from the extracted tree, against a
torchvision-style pass over the same PNGs.

* charbench: one whole ``charbench prepare omniglot --set background`` (64x64, mass-centred) in a fresh interpreter,
  default workers, from ``images_background.zip`` read in place and from the extracted ``images_background/`` tree;
* baseline: what the Omniglot notebooks do per file: ``PIL.Image.open`` + ``Resize(64)`` + ``ToTensor`` (torchvision
  transforms), one file after another, over the extracted tree; it writes nothing.
* for reference: reading every PNG and ``cv2.imdecode`` on one core, the floor of any decoder-bound pass.

Source: ../shared/data/omniglot-full/images_background.zip (synthetic Omniglot of the same size when absent).
Target (issue 16): charbench >= 3x faster than the baseline, from the zip and from the tree.

    python benchmarks/bench_omniglot.py [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, report
from _torchvision import import_torchvision

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "omniglot-full" / "images_background.zip"


def source(tmp: Path) -> tuple[Path, str]:
    if REAL.is_file():
        return REAL, "real images_background.zip"
    from charbench.synth.omniglot import write_omniglot

    write_omniglot(tmp / "synthetic", num_alphabets=30, characters=32, drawers=20, zipped=True, strokes=False)
    return tmp / "synthetic" / "images_background.zip", "synthetic Omniglot"


def prepare_seconds(src: Path, out: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "charbench", "prepare", "omniglot", "--source", str(src), "--set", "background",
           "--out", str(out), "--force", "--quiet"]
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True)
    return time.perf_counter() - start


def torchvision_seconds(paths: list[Path]) -> float:
    from PIL import Image

    tv = import_torchvision()
    transform = tv.transforms.Compose([tv.transforms.Resize(64), tv.transforms.ToTensor()])
    start = time.perf_counter()
    for path in paths:
        with Image.open(path) as im:
            transform(im.convert("L"))
    return time.perf_counter() - start


def decode_floor_seconds(paths: list[Path]) -> float:
    start = time.perf_counter()
    for path in paths:
        cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_GRAYSCALE)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        zipped, corpus = source(tmp)
        tree = tmp / "tree"
        with zipfile.ZipFile(zipped) as zf:
            zf.extractall(tree)
        paths = sorted(tree.rglob("*.png"))
        print(f"{len(paths):,} PNGs ({corpus}); {machine()}")
        prepare_seconds(zipped, tmp / "warm")  # numba's cache and the page cache warm
        runs = {"charbench, zip": lambda: prepare_seconds(zipped, tmp / "out"),
                "charbench, tree": lambda: prepare_seconds(tree, tmp / "out"),
                "torchvision-style pass": lambda: torchvision_seconds(paths),
                "read + cv2.imdecode, one core": lambda: decode_floor_seconds(paths)}
        times: dict[str, float] = {}
        for _ in range(args.repeat):
            for name, run in runs.items():
                t = run()
                times[name] = min(t, times.get(name, t))
        for name, t in times.items():
            print(f"{name:<30} {t:6.2f} s  ({len(paths) / t:,.0f} images/s)")
    base = times["torchvision-style pass"]
    extra = {"images": len(paths), "corpus": corpus, "seconds": {k: round(v, 2) for k, v in times.items()}}
    ok = True
    for kind in ("zip", "tree"):
        ratio = base / times[f"charbench, {kind}"]
        report(f"omniglot_prepare_{kind}_vs_torchvision_style", ratio,
               "per-file PIL open + Resize(64) + ToTensor pass over the tree", ">= 3x", **extra)
        ok &= ratio >= 3
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
