"""Helpers shared by the benchmark scripts: timing, peak memory of a child process, one result line format."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

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


def prepare_in_subprocess(name: str, root: Path, out: Path, workers: int, shard_size: int, one_core: bool,
                          cores: int | None = None, **options) -> tuple[float, float]:
    """Wall and CPU seconds of one whole ``prepare`` (``--force``) in a fresh interpreter.

    ``one_core`` pins it to one CPU with one numba thread; ``cores`` pins it to that many CPUs (and numba threads),
    so a run with N workers on a larger machine uses N cores. The CPU time is that of the interpreter and the
    children it reaped: complete with one worker, but without the pool's workers (forked by a forkserver, not
    reaped by it).
    """
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    cores = 1 if one_core else cores
    if cores:
        env.update(NUMBA_NUM_THREADS=str(cores), OMP_NUM_THREADS=str(cores))
    extra = "".join(f", {k}={v!r}" for k, v in options.items())
    code = (
        "from charbench.prepare import PrepareConfig, prepare; "
        f"prepare(PrepareConfig(name={name!r}, source={str(root)!r}, out={str(out)!r}, workers={workers}, "
        f"shard_size={shard_size}, progress=False, force=True{extra}))"
    )
    cpus = pinned_cpus(cores) if cores else None
    before = os.times()
    subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        check=True,
        preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
    )
    after = os.times()
    used = after.children_user - before.children_user + after.children_system - before.children_system
    return after.elapsed - before.elapsed, used


def _burn(n: int) -> int:
    x = 0
    for i in range(n):
        x ^= i * 2654435761 & 0xFFFF
    return x


def pinned_cpus(cores: int) -> list[int]:
    """The CPUs a run pinned to ``cores`` cores uses: the first of ``CHARBENCH_BENCH_CPUS`` (e.g. "0,8" to avoid
    two hyperthreads of one core), else the first of those this process may use."""
    chosen = os.environ.get("CHARBENCH_BENCH_CPUS")
    order = [int(c) for c in chosen.split(",")] if chosen else sorted(os.sched_getaffinity(0))
    return order[:cores]


def _pin(cores: int) -> None:
    os.sched_setaffinity(0, pinned_cpus(cores))


def machine_parallelism(workers: int, chunks: int = 8, n: int = 3_000_000) -> float:
    """Speed-up of a pure CPU-bound task on ``workers`` processes (pinned to ``workers`` cores) over one process on
    one core: what this machine offers right now (below ``workers`` when other programs hold cores). Pools are
    warmed first, so start-up is excluded."""
    from concurrent.futures import ProcessPoolExecutor

    times = {}
    for w in (1, workers):
        with ProcessPoolExecutor(w, initializer=_pin, initargs=(w,)) as pool:
            list(pool.map(_burn, [1] * w))
            with timer() as t:
                list(pool.map(_burn, [n] * chunks))
        times[w] = t()
    return times[1] / times[workers]
