"""The issue's real-data measure: the ``quick`` suite on MNIST and KMNIST test files, 2 CPU cores.

Only the official *test* files of MNIST (idx) and KMNIST (npz) are at hand in ../shared/data, so each is prepared
with ``--split random --fractions 0.8,0.1,0.1`` (8,000 train / 1,000 val / 1,000 test images) and ``simple_cnn``
is trained with the KMNIST paper's recipe (Adadelta, batch 128, 12 epochs, capped at the suite's time limit).
Goal: >= 97 % (MNIST) and >= 85 % (KMNIST) top-1 on the held-out test split, each within 3 minutes of training.

    python benchmarks/bench_quick_suite.py [--shared ../shared/data] [--work /tmp/charbench-quick] [--threads 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch
from _common import report

from charbench.bench.runner import RunConfig, run_suite

REPO = Path(__file__).resolve().parents[1]
SOURCES = {"mnist": "idx/MNIST/raw", "kmnist": "kuzushiji/kmnist"}
GOALS = {"mnist": 0.97, "kmnist": 0.85}
TRAIN_LIMIT_S = 180.0


def prepare(name: str, shared: Path, prepared: Path) -> None:
    """``charbench prepare`` through the real command line (a subprocess, so it never sees torch)."""
    cmd = [
        sys.executable,
        "-m",
        "charbench",
        "prepare",
        name,
        "--source",
        str(shared / SOURCES[name]),
        "--split",
        "random",
        "--fractions",
        "0.8,0.1,0.1",
        "--out",
        str(prepared),
        "--force",
        "--quiet",
    ]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO)


def main() -> int:
    """Prepare MNIST and KMNIST, run the quick suite on them, print the measures (exit 1 on a miss)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--work", type=Path, default=Path("/tmp/charbench-quick"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, help="override the suite's 12 epochs")
    args = parser.parse_args()
    prepared = args.work / "prepared"
    for name in SOURCES:
        prepare(name, args.shared, prepared)
    torch.set_num_threads(args.threads)
    outcome = run_suite(
        RunConfig(
            "quick",
            data_root=prepared,
            out_root=args.work / "runs",
            device="cpu",
            epochs=args.epochs,
            datasets="*mnist",
            threads=args.threads,
        )
    )
    ok = True
    for r in outcome.results:
        if r["status"] != "ok":
            print(f"{r['dataset']}: FAILED {r['error']}")
            ok = False
            continue
        acc, secs = r["test"]["top1"], r["train_seconds"]
        passed = acc >= GOALS[r["dataset"]] and secs <= TRAIN_LIMIT_S
        ok &= passed
        report(f"quick_suite_{r['dataset']}_top1", 100 * acc, f"{r['epochs_run']} epochs, {secs:.0f} s of training",
               f">= {100 * GOALS[r['dataset']]:.0f}", unit="%")
        print(
            f"{r['dataset']:>7}: test top-1 {100 * acc:.2f} % (goal >= {100 * GOALS[r['dataset']]:.0f} %), "
            f"balanced {100 * r['test']['balanced_accuracy']:.2f} %, {r['epochs_run']} epochs in {secs:.1f} s "
            f"of training (goal <= {TRAIN_LIMIT_S:.0f} s), best epoch {r['best_epoch']}, "
            f"train {r['throughput']['train_images_per_s']:,.0f} img/s, "
            f"pipeline efficiency {r['throughput']['pipeline_efficiency']:.3f} -> {'PASS' if passed else 'FAIL'}"
        )
    print(f"report: {outcome.run_dir}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
