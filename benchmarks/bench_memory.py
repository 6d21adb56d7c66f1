"""Peak resident memory of ``prepare`` on a synthetic corpus and on one 4x larger (target: ratio <= 1.25).

Each prepare runs in a fresh process (one worker, so the peak is one process's) and reports its own
ru_maxrss. The corpus is MNIST-layout idx resized to 32x32, so decoding, the kernels and the writer all run.

Usage: python benchmarks/bench_memory.py [--quick]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report
from bench_idx import mnist_like

_CHILD = """
import resource, sys
from pathlib import Path
from charbench.prepare import PrepareConfig, prepare
prepare(PrepareConfig(name="mnist", source=Path(sys.argv[1]), out=Path(sys.argv[2]), size=32, workers=1,
                      shard_size=10000, progress=False, force=True))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_kib(raw: Path, out: Path) -> int:
    done = subprocess.run([sys.executable, "-c", _CHILD, str(raw), str(out)], capture_output=True, text=True,
                          check=True)
    return int(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4x smaller corpora")
    args = parser.parse_args()
    base = 15_000 if args.quick else 60_000
    with tempfile.TemporaryDirectory() as tmp:
        small = mnist_like(Path(tmp) / "x1", base, base // 6)
        large = mnist_like(Path(tmp) / "x4", 4 * base, 4 * base // 6)
        p1 = peak_kib(small, Path(tmp) / "out1")
        p4 = peak_kib(large, Path(tmp) / "out4")
    print(f"peak RSS: 1x ({base * 7 // 6:,} images) {p1 / 1024:.0f} MiB, 4x {p4 / 1024:.0f} MiB")
    report("prepare_peak_memory_4x_vs_1x", p4 / p1, "prepare of the 1x corpus", "<= 1.25x",
           peak_1x_mib=round(p1 / 1024), peak_4x_mib=round(p4 / 1024))


if __name__ == "__main__":
    main()
