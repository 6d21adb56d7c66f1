"""Worker processes for prepare: one start method, and an ordered map over them."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any


def available_cores() -> int:
    """CPUs this process may run on: its affinity mask (taskset, SLURM, containers), not the machine's count."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # platforms without sched_getaffinity (macOS)
        return os.cpu_count() or 1


def worker_context():
    """forkserver where the platform has it: children fork from a clean server that has charbench imported
    (cheap to start, unlike spawn) and has never started numba threads (unlike a plain fork of this process)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["charbench.render", "charbench.datasets", "charbench.kernels"])
    return ctx


def process_map(fn: Callable[[Any], Any], items: Sequence[Any], workers: int) -> list[Any]:
    """``[fn(x) for x in items]``, run on ``workers`` processes when there are several (results in order)."""
    if workers <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    with ProcessPoolExecutor(min(workers, len(items)), mp_context=worker_context()) as pool:
        return list(pool.map(fn, items))
