"""Regenerate the pictures in docs/ from a real run: `python scripts/make_docs.py` (a few minutes on a CPU).

It runs `charbench demo --small` in a temporary folder, then `charbench inspect` on the balanced Kuzushiji-layout
dataset, and copies the report's plots, the inspect PNGs and report.md into docs/. Nothing here is drawn by hand.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from charbench.cli.main import main as charbench

DOCS = Path(__file__).resolve().parent.parent / "docs"


def run() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if charbench(["demo", "--out", str(tmp), "--small", "--quiet"]) != 0:
            return 1
        dataset = tmp / "prepared" / "demo-kuzushiji"
        if charbench(["inspect", str(dataset), "--png", str(DOCS / "inspect-kuzushiji.png")]) != 0:
            return 1
        (run_dir,) = list((tmp / "runs").iterdir())
        DOCS.mkdir(exist_ok=True)
        wanted = ["throughput", "demo-kuzushiji__simple_cnn__s0_curves", "demo-kuzushiji__simple_cnn__s0_confusion"]
        for png in sorted((run_dir / "plots").glob("*.png")):
            if any(png.stem.startswith(w) for w in wanted):
                shutil.copy(png, DOCS / f"report-{png.name}")
        text = (run_dir / "report.md").read_text(encoding="utf-8").replace("](plots/", "](report-")
        (DOCS / "example-report.md").write_text(text, encoding="utf-8")
    print(f"wrote {sorted(p.name for p in DOCS.iterdir())}")
    return 0


if __name__ == "__main__":
    sys.exit(run())
