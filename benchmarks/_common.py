"""Helpers shared by the benchmark scripts: timing, peak memory of a child process, one result line format."""

from __future__ import annotations

import json
import os
import platform
import time
from contextlib import contextmanager

RESULT_PREFIX = "RESULT "


@contextmanager
def timer():
    """``with timer() as t: ...`` then ``t()`` gives the elapsed seconds."""
    start = time.perf_counter()
    end = None

    def elapsed() -> float:
        return (end or time.perf_counter()) - start

    try:
        yield elapsed
    finally:
        end = time.perf_counter()


def best_of(fn, repeat: int = 3) -> float:
    """Fastest wall time of ``repeat`` calls (the least disturbed by a noisy machine)."""
    times = []
    for _ in range(repeat):
        with timer() as t:
            fn()
        times.append(t())
    return min(times)


def report(name: str, value: float, baseline: str, target: str, unit: str = "x", **extra) -> dict:
    """Print one figure as a human line and a machine-readable RESULT line (read by run_all.py)."""
    row = {"name": name, "value": round(value, 3), "unit": unit, "baseline": baseline, "target": target, **extra}
    print(f"{name}: {value:.2f}{unit} vs {baseline} (target {target})")
    print(RESULT_PREFIX + json.dumps(row))
    return row


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "platform": platform.platform()}
