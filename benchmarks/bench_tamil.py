"""HPL Tamil TIFF folders: ``charbench prepare hpl-tamil`` throughput against named baselines.

Figures (images per second, all measured in this run on the same files):
- prepare with ``--workers N`` (default 2) pinned to N cores vs prepare with one worker pinned to one core with one
  numba thread (target >= 1.7x for N = 2): how prepare scales with cores. As that depends on how many cores the host really gives, the
  ratio is also printed over the speed-up of a pure CPU-bound task on as many processes, measured before and after
  (parallel efficiency, target >= 0.85, as in bench_kuzushiji). Unpinned, ``--workers 1`` already runs the numba kernels on every
  core, so that ratio is also printed, for information only;
- prepare with ``--workers N`` vs the plain Pillow loop of Tamil-recognition notebooks: for every file
  ``Image.open(path).convert("L").resize((64, 64))`` into a numpy array (target >= 2x).

Prepare rates are steady-state rates of whole runs in fresh interpreters (scan with header checks, TIFF decode,
Otsu binarisation, crop, resize, centre, gzip shards, raw-file sha256s, index.json): the extra files of a corpus 4x
larger over the extra time, so start-up costs cancel out. The Pillow loop only decodes and resizes, and writes
nothing.

Files: the 1,060 real bi-level HPL TIFFs under ../shared/data/tamil hard-linked ``--copies`` times (and a quarter as
often for the small corpus) under new folders (real files, real sizes), or with ``--synthetic`` (or when the real
data is absent) a seeded synthetic HPL tree of ``--images`` bi-level TIFFs of 60-300 px, 156 classes.

Usage: python benchmarks/bench_tamil.py [--copies 32] [--synthetic] [--images 32000] [--workers 2] [--repeat 3]
(set CHARBENCH_BENCH_CPUS=0,8 to choose the pinned CPUs, e.g. two physical cores instead of two hyperthreads)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, machine_parallelism, prepare_in_subprocess, report, timer

from charbench.synth.tiff import write_hpl_tiffs

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "tamil" / "hpl-tamil-iso-char-offline-subset"


def real_corpus(root: Path, copies: int) -> Path:
    """The real TIFF tree ``copies`` times under ``r<k>/``, each copy's writers renumbered (``usr_W`` ->
    ``usr_<W + 1000 k>``: the converter reads a sample found twice under one class, writer and sample number once),
    as hard links (or copies across file systems): regular files, as in a real corpus, where symbolic links would
    add a link resolution to every listing and open."""
    files = sorted(p for p in REAL.rglob("*.tiff") if p.is_file())
    for k in range(copies):
        for src in files:
            parts = [f"usr_{int(part[4:]) + 1000 * k}" if part.startswith("usr_") else part
                     for part in src.relative_to(REAL).parts]
            dst = root / f"r{k}" / Path(*parts)
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(src, dst)
            except OSError:
                shutil.copyfile(src, dst)
    return root


def pillow_loop(paths: list[Path], size: int) -> np.ndarray:
    """The notebook baseline: open, convert to grey, resize, collect."""
    from PIL import Image

    out = np.empty((len(paths), size, size), np.uint8)
    for i, path in enumerate(paths):
        with Image.open(path) as im:
            out[i] = np.asarray(im.convert("L").resize((size, size), Image.BILINEAR))
    return out


def run_prepare(root: Path, out: Path, workers: int, shard_size: int, cores: int | None, size: int) -> float:
    """Wall seconds of a whole prepare in a fresh interpreter (``cores``: pinned to that many, None: unpinned)."""
    return prepare_in_subprocess("hpl-tamil", root, out, workers, shard_size, False, cores, size=size,
                                 split="random")[0]


def corpus(args: argparse.Namespace, root: Path, scale: float) -> tuple[Path, str]:
    if REAL.is_dir() and not args.synthetic:
        return real_corpus(root, max(1, round(args.copies * scale))), f"real HPL TIFFs x{args.copies}"
    per_class = max(1, round(args.images * scale) // 156)
    tree = write_hpl_tiffs(root, num_classes=156, per_class=per_class, num_writers=150, junk=False, sizes=(60, 300))
    return tree, "synthetic HPL TIFFs"


RUNS = {"one core": (1, 1), "1 worker": (1, None)}  # (workers, cores pinned); plus "<N> workers" on N cores


def measure(roots: dict[str, Path], tmp: Path, args: argparse.Namespace) -> tuple[dict, dict]:
    """Steady-state images/s of each configuration: the extra files of the large corpus over the extra time, so
    interpreter start-up, pool start and the fixed part of writing index.json cancel out (the scan does not)."""
    files = {k: sorted(root.rglob("*.tiff")) for k, root in roots.items()}
    n = {k: len(v) for k, v in files.items()}
    shard_size = -(-n["large"] // (8 * args.workers))  # >= 8 shards per worker on the large corpus: a balanced pool
    print(f"{n['small']:,} and {n['large']:,} files; shard size {shard_size}; {machine()}")
    run_prepare(roots["small"], tmp / "warm", 1, shard_size, None, args.size)  # numba cache and page cache warm
    runs = {**RUNS, f"{args.workers} workers": (args.workers, args.workers)}
    wall: dict[tuple[str, str], float] = {}
    for _ in range(args.repeat):  # configurations interleaved, so drift in the machine's load hits each alike
        for label, (workers, cores) in runs.items():
            for k, root in roots.items():
                t = run_prepare(root, tmp / "out", workers, shard_size, cores, args.size)
                wall[label, k] = min(t, wall.get((label, k), t))
    rates = {}
    for label in runs:
        rates[label] = (n["large"] - n["small"]) / (wall[label, "large"] - wall[label, "small"])
        print(f"prepare, {label:9s}: {wall[label, 'small']:.1f} s / {wall[label, 'large']:.1f} s "
              f"-> {rates[label]:,.0f} images/s")
    with timer() as t:
        pillow_loop(files["large"], args.size)
    rates["pillow"] = n["large"] / t()
    print(f"Pillow open-convert-resize loop: {rates['pillow']:,.0f} images/s ({t():.1f} s)")
    return rates, n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=32, help="links per real file (default 32: 33,920 files)")
    parser.add_argument("--synthetic", action="store_true", help="synthetic TIFFs even when the real ones exist")
    parser.add_argument("--images", type=int, default=32000, help="synthetic TIFFs (default 32,000)")
    parser.add_argument("--workers", type=int, default=2, help="workers of the parallel run (default 2)")
    parser.add_argument("--size", type=int, default=64, help="output side (default 64)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per configuration; the fastest counts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tamil-") as tmp:
        made = {k: corpus(args, Path(tmp) / k, scale) for k, scale in (("small", 0.25), ("large", 1.0))}
        offered = machine_parallelism(args.workers)
        rates, n = measure({k: root for k, (root, _) in made.items()}, Path(tmp), args)
        offered = (offered + machine_parallelism(args.workers)) / 2  # before and after: the machine's state drifts
    print(f"a CPU-bound task ran {offered:.2f}x faster on {args.workers} processes than on one (mean of 2)")
    parallel = f"{args.workers} workers"
    extra = {"images": n, "corpus": made["large"][1], "images_per_s": {k: round(v) for k, v in rates.items()},
             "workers": args.workers, "machine_parallelism": round(offered, 2)}
    report(f"hpl-tamil parallel efficiency ({parallel} vs one core, over what the machine offers)",
           rates[parallel] / rates["one core"] / offered, "CPU-bound task on the same processes", ">= 0.85", **extra)
    report(f"hpl-tamil prepare {parallel} vs one core", rates[parallel] / rates["one core"],
           "prepare --workers 1 pinned to one core", ">= 1.7x", **extra)
    report(f"hpl-tamil prepare {parallel} vs Pillow loop", rates[parallel] / rates["pillow"],
           "Pillow open/convert/resize loop", ">= 2x", **extra)
    report(f"hpl-tamil prepare {parallel} vs --workers 1 (numba threads on every core)",
           rates[parallel] / rates["1 worker"], "prepare --workers 1, unpinned", "(reported only)", **extra)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
