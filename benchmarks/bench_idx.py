"""idx reading and idx prepare against the baselines people would otherwise use.

Figures (all measured in this run):
- idx reader vs the byte-by-byte Python reader of tutorials (target >= 100x) and vs numpy.frombuffer on the
  already-decompressed bytes (target: within 2x, i.e. ratio >= 0.5);
- ``charbench prepare`` of a full-size MNIST layout (70,000 images) vs merely gunzipping its raw files
  (target: prepare takes <= 3x the gunzip time).

Usage: python benchmarks/bench_idx.py [--quick]
"""

from __future__ import annotations

import argparse
import gzip
import struct
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import best_of, report

from charbench.io.idx import read_idx
from charbench.prepare import PrepareConfig, prepare
from charbench.synth.glyphs import GlyphGenerator, assign
from charbench.synth.idx import write_idx


def byte_by_byte(path: Path) -> list:
    """The tutorial reader: struct-unpack the header, then read and convert one byte per pixel."""
    with gzip.open(path, "rb") as f:
        _, n, rows, cols = struct.unpack(">IIII", f.read(16))
        return [[[ord(f.read(1)) for _ in range(cols)] for _ in range(rows)] for _ in range(n)]


def mnist_like(root: Path, train: int, test: int) -> Path:
    """Full-size MNIST layout: a few thousand rendered glyphs tiled to the real counts (real-shaped bytes)."""
    gen = GlyphGenerator(10, seed=0)
    labels, writers = assign(10, 200, 50, seed=0)
    tiles = gen.images(labels, writers, 28)
    for prefix, n in (("train", train), ("t10k", test)):
        idx = np.arange(n) % len(tiles)
        write_idx(root / f"{prefix}-images-idx3-ubyte.gz", tiles[idx])
        write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", labels[idx].astype(np.uint8))
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10x smaller corpus for the reader figures (the prepare "
                        "figure always uses the full 70,000 images: start-up costs would dominate a smaller one)")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    with tempfile.TemporaryDirectory() as tmp:
        root = mnist_like(Path(tmp) / "raw", 60_000 // scale, 10_000 // scale)
        images = root / "train-images-idx3-ubyte.gz"
        small = Path(tmp) / "small.gz"
        write_idx(small, read_idx(images)[:1000])
        t_bytes = best_of(lambda: byte_by_byte(small), 1)
        t_ours_small = best_of(lambda: read_idx(small), 5)
        report("idx_reader_vs_byte_by_byte", t_bytes / t_ours_small, "byte-by-byte Python idx reader", ">= 100x")
        raw = gzip.decompress(images.read_bytes())
        t_frombuffer = best_of(lambda: np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28).copy())
        t_gunzip_read = best_of(lambda: gzip.decompress(images.read_bytes()))
        t_ours = best_of(lambda: read_idx(images))
        report("idx_reader_vs_frombuffer", (t_frombuffer + t_gunzip_read) / t_ours,
               "gunzip + numpy.frombuffer", ">= 0.5x (within 2x)")
        if scale != 1:
            root = mnist_like(Path(tmp) / "full", 60_000, 10_000)
        gz_files = sorted(root.glob("*.gz"))
        t_gunzip = best_of(lambda: [gzip.decompress(p.read_bytes()) for p in gz_files])
        out = Path(tmp) / "out"
        t_prepare = best_of(lambda: prepare(PrepareConfig(name="mnist", source=root, out=out, force=True,
                                                          progress=False)), 2)
        report("prepare_mnist_vs_gunzip", t_prepare / t_gunzip, "gunzip of the raw files", "<= 3x",
               images=70_000)


if __name__ == "__main__":
    main()
