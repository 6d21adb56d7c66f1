"""HPL Tamil TIFF folders: ``charbench prepare hpl-tamil`` throughput against named baselines.

Figures (images per second, all measured in this run on the same files):
- prepare with ``--workers N`` (default 2) vs prepare with one worker (target >= 1.7x);
- prepare with ``--workers N`` vs the plain Pillow loop of Tamil-recognition notebooks: for every file
  ``Image.open(path).convert("L").resize((64, 64))`` into a numpy array (target >= 2x).

Prepare times are whole runs (scan with header checks, TIFF decode, Otsu binarisation, crop, resize, centre,
verified gzip shards, raw-file sha256s, index.json); the Pillow loop only decodes and resizes, and writes nothing.

Files: the 1,060 real bi-level HPL TIFFs under ../shared/data/tamil linked ``--copies`` times under new folders
(real files, real sizes), or with ``--synthetic`` (or when the real data is absent) a seeded synthetic HPL tree of
``--images`` bi-level TIFFs of 60-300 px, 156 classes.

Usage: python benchmarks/bench_tamil.py [--copies 20] [--synthetic] [--images 20000] [--workers 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, report, timer

from charbench.prepare import PrepareConfig, prepare
from charbench.synth.tiff import write_hpl_tiffs

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "tamil" / "hpl-tamil-iso-char-offline-subset"


def real_corpus(root: Path, copies: int) -> Path:
    """The real TIFF tree linked ``copies`` times under ``r<k>/`` (same names, so the same classes and writers)."""
    files = sorted(p for p in REAL.rglob("*.tiff") if p.is_file())
    for k in range(copies):
        for src in files:
            dst = root / f"r{k}" / src.relative_to(REAL)
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.symlink_to(src)
    return root


def pillow_loop(paths: list[Path], size: int) -> np.ndarray:
    """The notebook baseline: open, convert to grey, resize, collect."""
    from PIL import Image

    out = np.empty((len(paths), size, size), np.uint8)
    for i, path in enumerate(paths):
        with Image.open(path) as im:
            out[i] = np.asarray(im.convert("L").resize((size, size), Image.BILINEAR))
    return out


def run_prepare(root: Path, out: Path, workers: int, shard_size: int, size: int) -> Path:
    return prepare(
        PrepareConfig(
            name="hpl-tamil",
            source=root,
            out=out,
            output_name=f"t{workers}",
            workers=workers,
            shard_size=shard_size,
            size=size,
            split="random",
            progress=False,
        )
    )


def corpus(args: argparse.Namespace, tmp: Path) -> tuple[Path, str]:
    if REAL.is_dir() and not args.synthetic:
        return real_corpus(tmp / "raw", args.copies), f"real HPL TIFFs x{args.copies}"
    root = write_hpl_tiffs(
        tmp / "raw", num_classes=156, per_class=max(1, args.images // 156), num_writers=150, junk=False, sizes=(60, 300)
    )
    return root, "synthetic HPL TIFFs"


def measure(root: Path, tmp: Path, args: argparse.Namespace) -> tuple[dict, int]:
    paths = sorted(root.rglob("*.tiff"))
    n = len(paths)
    shard_size = -(-n // (8 * args.workers))  # >= 8 shards per worker: a balanced pool
    print(f"{n:,} files; shard size {shard_size}; {machine()}")
    run_prepare(root, tmp / "warm", 1, shard_size, args.size)  # numba cache and page cache warm for every run
    rates = {}
    for workers in (1, args.workers):
        with timer() as t:
            run_prepare(root, tmp / f"out{workers}", workers, shard_size, args.size)
        rates[workers] = n / t()
        print(f"prepare, {workers} worker(s): {rates[workers]:,.0f} images/s ({t():.1f} s)")
    with timer() as t:
        pillow_loop(paths, args.size)
    rates["pillow"] = n / t()
    print(f"Pillow open-convert-resize loop: {rates['pillow']:,.0f} images/s ({t():.1f} s)")
    return rates, n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20, help="links per real file (default 20: 21,200 files)")
    parser.add_argument("--synthetic", action="store_true", help="synthetic TIFFs even when the real ones exist")
    parser.add_argument("--images", type=int, default=20000, help="synthetic TIFFs (default 20,000)")
    parser.add_argument("--workers", type=int, default=2, help="workers of the parallel run (default 2)")
    parser.add_argument("--size", type=int, default=64, help="output side (default 64)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tamil-") as tmp:
        root, kind = corpus(args, Path(tmp))
        print(kind)
        rates, n = measure(root, Path(tmp), args)
    extra = {"images": n, "corpus": kind, "images_per_s": rates}
    report(
        f"hpl-tamil prepare {args.workers} workers vs one",
        rates[args.workers] / rates[1],
        "prepare --workers 1",
        ">= 1.7x",
        workers=args.workers,
        **extra,
    )
    report(
        f"hpl-tamil prepare {args.workers} workers vs Pillow loop",
        rates[args.workers] / rates["pillow"],
        "Pillow open/convert/resize loop",
        ">= 2x",
        workers=args.workers,
        **extra,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
