"""Run every benchmark script and write benchmarks/RESULTS.md (machine details, each figure with its target).

Each ``bench_*.py`` prints ``RESULT {json}`` lines: a ratio against a baseline measured in the same run.
``bench_accuracy`` (an hour of training on full real data) runs only when named with ``--only``, and writes its own
section of RESULTS.md, which this script keeps.
Usage: python benchmarks/run_all.py [--quick] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import RESULT_PREFIX, machine

ACCURACY = ("<!-- bench_accuracy -->", "<!-- /bench_accuracy -->")  # the section bench_accuracy.py writes
PACKAGES = ("charbench", "numpy", "numba", "h5py", "opencv-python-headless", "pillow", "torch", "scikit-image")


def run_script(path: Path, quick: bool) -> tuple[list[dict], str, float]:
    start = time.perf_counter()
    takes_quick = "--quick" in path.read_text(encoding="utf-8")
    cmd = [sys.executable, str(path)] + (["--quick"] if quick and takes_quick else [])
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    rows = [json.loads(line[len(RESULT_PREFIX):]) for line in done.stdout.splitlines()
            if line.startswith(RESULT_PREFIX)]
    status = "ok" if done.returncode == 0 else f"failed (exit {done.returncode}): {done.stderr.strip()[-300:]}"
    return rows, status, time.perf_counter() - start


def met(row: dict) -> str:
    """'yes' / 'no' from a target such as '>= 100x' or '<= 3x'; '-' when the target is not a comparison."""
    m = re.match(r"\s*(>=|<=)\s*([0-9.]+)", str(row.get("target", "")))
    if not m:
        return "-"
    bound = float(m.group(2))
    ok = row["value"] >= bound if m.group(1) == ">=" else row["value"] <= bound
    return "yes" if ok else "**no**"


def write_results(results: dict, quick: bool, out: Path) -> None:
    info = machine()
    versions = []
    for pkg in PACKAGES:
        try:
            versions.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            pass
    lines = ["# Benchmark results", "",
             (f"Written by `python benchmarks/run_all.py{' --quick' if quick else ''}` on "
             f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC."), "",
             f"- machine: {info['cores']} cores, {info['cpu']}, {info['platform']}",
             f"- Python {info['python']}; {', '.join(versions)}", "",
             ("Every figure is a ratio against a baseline measured in the same run, so it survives a noisy machine "
             "better than an absolute time. A machine busy with other work still moves them."), "",
             "| script | figure | value | baseline | target | met |", "|---|---|---|---|---|---|"]
    for script, (rows, status, seconds) in results.items():
        if not rows:
            lines.append(f"| {script} | ({status}) | | | | |")
        for row in rows:
            lines.append(f"| {script} | {row['name']} | {row['value']:.2f}{row.get('unit', 'x')} | {row['baseline']} "
                         f"| {row['target']} | {met(row)} |")
    lines += ["", "Run times: " + ", ".join(f"{s} {t:.0f} s ({st.split(':')[0]})"
                                          for s, (_, st, t) in results.items()), ""]
    previous = out.read_text(encoding="utf-8") if out.is_file() else ""
    start, end = previous.find(ACCURACY[0]), previous.find(ACCURACY[1])
    if start >= 0 and end > start:  # bench_accuracy's section: kept as it was written
        lines += [previous[start : end + len(ACCURACY[1])], ""]
    out.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="pass --quick to every script (smaller inputs)")
    parser.add_argument("--only", nargs="*", help="script names (bench_idx ...) to run")
    parser.add_argument("--skip", nargs="*", default=[], help="script names to leave out")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.stem in args.only]
    else:
        scripts = [s for s in scripts if s.stem != "bench_accuracy"]
    scripts = [s for s in scripts if s.stem not in args.skip]
    results = {}
    for script in scripts:
        print(f"== {script.name}", flush=True)
        rows, status, seconds = run_script(script, args.quick)
        for row in rows:
            print(f"   {row['name']}: {row['value']:.2f}{row.get('unit', 'x')} (target {row['target']}) {met(row)}")
        if status != "ok":
            print(f"   {status}")
        results[script.stem] = (rows, status, seconds)
    write_results(results, args.quick, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
