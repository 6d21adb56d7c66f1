"""Worker processes for prepare: one start method, and an ordered map over them that this process helps with."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any


def available_cores() -> int:
    """CPUs this process may run on: its affinity mask (taskset, SLURM, containers), not the machine's count."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # platforms without sched_getaffinity (macOS)
        return os.cpu_count() or 1


def worker_context():
    """forkserver where the platform has it: children fork from a clean server that has charbench imported and
    numba's compiler readied (cheap to start, unlike spawn) and has never started numba threads (unlike a plain
    fork of this process)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["charbench.render", "charbench.datasets", "charbench.kernels.preload"])
    return ctx


_SERVER_UP = threading.Event()  # a pool of this process has had a worker running: the forkserver is up
_SERVER_STARTED = threading.Event()  # warm_up started it (it may still be importing)


def warm_up() -> None:
    """Start the workers' server now, in the background, so that its imports (charbench, numba) run while this
    process scans the source instead of after it: the pool that follows then starts in a fraction of a second."""
    context = worker_context()
    if context.get_start_method() == "forkserver" and not _SERVER_STARTED.is_set():
        from multiprocessing import forkserver

        threading.Thread(target=forkserver.ensure_running, name="charbench-forkserver", daemon=True).start()
        _SERVER_STARTED.set()


def run_in_worker(fn: Callable[..., Any], *args: Any, here: bool = False) -> Any:
    """``fn(*args)`` in one worker forked from the server that :func:`warm_up` started (numba is ready there), or in
    this process when ``here`` or when no server was started; exceptions are raised here either way."""
    if here or not _SERVER_STARTED.is_set():
        return fn(*args)
    with ProcessPoolExecutor(1, mp_context=worker_context()) as pool:
        return pool.submit(fn, *args).result()


# About what starting a pool from nothing costs (the server imports charbench and numba): work this process would
# finish sooner on its own gets no pool. The pool starts anyway once the first item has run this long here.
POOL_START_SECONDS = 1.5
DECIDE_SECONDS = 0.3


def process_map(fn: Callable[[Any], Any], items: Sequence[Any], workers: int, *,
                local_fn: Callable[[Any], Any] | None = None, initializer: Callable | None = None,
                initargs: tuple = (), on_result: Callable[[int, Any], None] | None = None,
                help_here: bool = True) -> list[Any]:
    """``[fn(x) for x in items]`` in order, on ``workers`` processes when there are several.

    A pool takes a second or so to start when its server does not run yet (the server imports charbench and numba),
    so this process then works through the items from the front, with ``local_fn`` (default ``fn``), until the pool's
    first worker is up; the pool takes them from the back, and every item left once it runs. When this process's
    first item shows that it would finish every item before a pool could start, no pool is started at all.
    ``initializer(*initargs)`` runs in each worker; ``on_result(i, result)`` is called here as each result arrives
    (progress bars). ``help_here=False`` leaves every item to the pool, for work whose first run here costs more than
    waiting for a server already starting (numba's start-up, in a process that has not paid it).
    """
    report = on_result or (lambda i, r: None)
    if workers <= 1 or len(items) <= 1:
        return [_reported(report, i, (local_fn or fn)(x)) for i, x in enumerate(items)]
    results: list[Any] = [None] * len(items)
    queue = _Claims(len(items))
    failed: list[BaseException] = []
    context = worker_context()
    size = min(workers, len(items))
    if initializer is not None:
        # the pool pickles initargs again for every worker it starts (a scanned source can be megabytes): pickled
        # once here, each start only copies the bytes
        initializer, initargs = _unpickled_call, (initializer, pickle.dumps(initargs, pickle.HIGHEST_PROTOCOL))
    pool = ProcessPoolExecutor(size, mp_context=context, initializer=initializer, initargs=initargs)
    # Help only while the pool starts from nothing; a pool forked from a running server starts within a fraction
    # of a second, and once a pool runs, its workers have the cores.
    help_here = help_here and not (context.get_start_method() == "forkserver" and _SERVER_UP.is_set())
    start = _StartDecision(help_here)

    def feed() -> None:
        """Submit items from the back, once the pool is up; then shut it down. It runs on its own thread, since the
        first submit waits for the server to start; a caller that did every item itself need not wait for that."""
        try:
            if not start.pool_wanted():
                return
            # one no-op per worker: this pool starts a worker per submit that finds none idle, so all of them start
            # now instead of one after another as items arrive; once the first is up, submitting is quick
            up, _ = wait([pool.submit(_nothing) for _ in range(size)], return_when=FIRST_COMPLETED)
            next(iter(up)).result()  # a worker that failed to start raises here
            queue.pool_up.set()
            _SERVER_UP.set()
            while (k := queue.claim_back()) is not None:
                pool.submit(fn, items[k]).add_done_callback(lambda f, k=k: queue.finished(k, f))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
            failed.append(exc)
            queue.stop()
        finally:
            pool.shutdown(wait=True)

    feeder = threading.Thread(target=feed, name="charbench-pool-feeder", daemon=True)
    feeder.start()
    try:
        first = time.perf_counter()
        while help_here and not failed and not queue.pool_up.is_set() and (k := queue.claim_front()) is not None:
            results[k] = _reported(report, k, (local_fn or fn)(items[k]))
            if k == 0:  # no pool when the rest is done here sooner: the loop then takes every item
                start.decide(len(items) - 1, time.perf_counter() - first)
        for k, f in queue.results():  # as they finish, for the progress bar
            results[k] = _reported(report, k, f.result())
        if start.started and not queue.pool_up.is_set():
            # every item was done here after all: let the starting pool come up and close, so that no worker is
            # left unpickling its start-up state from a process that is gone (a traceback on stderr)
            feeder.join()
    except BaseException:
        queue.stop()
        pool.shutdown(wait=False, cancel_futures=True)  # the pool's items not started yet are dropped
        feeder.join()  # and the running ones end before this returns
        raise
    queue.stop()
    if failed:
        raise failed[0]
    return results


def _nothing() -> None:
    pass


def _unpickled_call(fn: Callable, payload: bytes) -> None:
    fn(*pickle.loads(payload))


class _StartDecision:
    """Whether a pool is started: the feeder asks (and waits up to DECIDE_SECONDS), this process answers after its
    first item: no pool when the items left would be done here before a pool could start."""

    def __init__(self, helping: bool):
        self._lock, self._answered = threading.Lock(), threading.Event()
        self.started, self._wanted = False, True
        if not helping:  # nothing runs here: no question to ask
            self._answered.set()

    def pool_wanted(self) -> bool:
        self._answered.wait(DECIDE_SECONDS)
        with self._lock:
            self.started = self._wanted
            return self._wanted

    def decide(self, left: int, first_item_seconds: float) -> bool:
        """Answer after the first item; True when this process is to do every item (no pool was started yet)."""
        with self._lock:
            alone = not self.started and left * first_item_seconds < POOL_START_SECONDS
            self._wanted = not alone
            self._answered.set()
            return alone


def _reported(report: Callable[[int, Any], None], i: int, result: Any) -> Any:
    report(i, result)
    return result


class _Claims:
    """Items handed out from both ends (this process: front, pool: back), and the pool's finished futures."""

    def __init__(self, n: int):
        self._lock = threading.Condition()
        self._front, self._back = 0, n
        self._submitted = 0
        self._done: list[tuple[int, Future]] = []
        self._stopped = False
        self.pool_up = threading.Event()

    def claim_front(self) -> int | None:
        with self._lock:
            if self._front >= self._back or self._stopped:
                return None
            self._front += 1
            return self._front - 1

    def claim_back(self) -> int | None:
        with self._lock:
            if self._front >= self._back or self._stopped:
                return None
            self._back -= 1
            self._submitted += 1
            return self._back

    def finished(self, k: int, future: Future) -> None:
        with self._lock:
            self._done.append((k, future))
            self._lock.notify_all()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._lock.notify_all()

    def results(self):
        """(index, future) of the pool's items as they finish, until every item is claimed and every claimed one
        finished (or until stopped)."""
        taken = 0
        while True:
            with self._lock:
                while taken == len(self._done):
                    if self._stopped or (self._front >= self._back and taken >= self._submitted):
                        return
                    self._lock.wait()
                batch, taken = self._done[taken:], len(self._done)
            yield from batch
