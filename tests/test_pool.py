"""process_map: in order, shared between this process and the pool, errors raised here, initializer applied."""

from __future__ import annotations

import os
import threading
import time
from functools import partial
from pathlib import Path

import pytest

from charbench.pool import process_map

_SETTING: dict = {}


def _square(x: int) -> int:
    return x * x


def _slow_square(x: int) -> int:
    time.sleep(0.6)  # four of these are worth a pool (pool.POOL_START_SECONDS)
    return x * x


def _pid(x: int) -> int:
    return os.getpid()


def _fail_on(bad: int, x: int) -> int:
    if x == bad:
        raise ValueError(f"item {x} is bad")
    return x


def _here_never(x: int) -> None:
    raise AssertionError("this process took an item from a pool that was up at once")


def _touch_then_fail_on(folder: str, bad: int, x: int) -> int:
    Path(folder, f"done-{x}").touch()
    if x == bad:
        raise ValueError(f"item {x} is bad")
    return x


def _start_after_this_process(folder: str, value: str | None = None) -> None:
    """Initializer: the pool comes up only once this process has begun its first item (so it surely has one)."""
    _wait_for(Path(folder, "started-here"))
    if value is not None:
        _SETTING["value"] = value


def _wait_for(path: Path) -> None:
    deadline = time.monotonic() + 120
    while not path.exists() and not (path.name == "done" and any(path.parent.glob("done-*"))):
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.01)


def _by_pool(folder: str, x: int) -> tuple[int, int, str | None]:
    Path(folder, f"done-{x}").touch()
    return x, os.getpid(), _SETTING.get("value")


def _here_after_the_pool(folder: str, x: int) -> tuple[int, int, str | None]:
    """This process's first item waits until the pool has finished one: both must have taken part."""
    Path(folder, "started-here").touch()
    if x == 0:
        _wait_for(Path(folder, "done"))
    return x, os.getpid(), _SETTING.get("value")


@pytest.fixture
def cold_server(monkeypatch):
    """As if no pool had run in this process yet (the forkserver may run from earlier tests)."""
    from charbench import pool

    monkeypatch.setattr(pool, "_SERVER_UP", threading.Event())


def test_results_come_back_in_order_and_each_is_reported_once():
    seen = []
    out = process_map(_square, list(range(40)), 2, on_result=lambda i, r: seen.append((i, r)))
    assert out == [x * x for x in range(40)]
    assert sorted(seen) == [(x, x * x) for x in range(40)]


def test_one_worker_runs_here_in_order():
    seen = []
    assert process_map(_square, [3, 1, 2], 1, on_result=lambda i, r: seen.append(i)) == [9, 1, 4]
    assert seen == [0, 1, 2]


def test_this_process_works_from_the_front_while_the_pool_starts(tmp_path, cold_server):
    out = process_map(partial(_by_pool, str(tmp_path)), list(range(30)), 2,
                      local_fn=partial(_here_after_the_pool, str(tmp_path)),
                      initializer=_start_after_this_process, initargs=(str(tmp_path),))
    assert [x for x, _, _ in out] == list(range(30))
    here = {x for x, pid, _ in out if pid == os.getpid()}
    assert here == {0}  # item 0 waited for the pool, which then took every item left
    assert {f"done-{x}" for x in range(1, 30)} == {p.name for p in tmp_path.glob("done-*")}


def test_a_pool_from_a_running_server_does_every_item(tmp_path):
    from charbench import pool

    process_map(_slow_square, list(range(4)), 2)  # the server now starts, whatever ran before
    assert pool._SERVER_UP.wait(120)
    out = process_map(partial(_by_pool, str(tmp_path)), list(range(30)), 2, local_fn=_here_never)
    assert [x for x, _, _ in out] == list(range(30))
    assert os.getpid() not in {pid for _, pid, _ in out}


def test_without_help_here_the_starting_pool_does_every_item(tmp_path, cold_server):
    out = process_map(partial(_by_pool, str(tmp_path)), list(range(30)), 2, local_fn=_here_never, help_here=False)
    assert [x for x, _, _ in out] == list(range(30))
    assert os.getpid() not in {pid for _, pid, _ in out}


def test_work_done_here_before_a_pool_could_start_gets_no_pool(cold_server):
    from charbench import pool

    assert process_map(_pid, list(range(20)), 2) == [os.getpid()] * 20
    assert not pool._SERVER_UP.is_set()  # no worker was started (none left behind to fail at exit either)


def test_an_error_in_this_process_is_raised(cold_server):
    with pytest.raises(ValueError, match="item 0 is bad"):
        process_map(partial(_fail_on, 0), list(range(30)), 2)


def test_an_error_in_the_pool_is_raised_here(tmp_path, cold_server):
    with pytest.raises(ValueError, match="item 29 is bad"):  # the pool's first item; item 0 here waits for it
        process_map(partial(_touch_then_fail_on, str(tmp_path), 29), list(range(30)), 2,
                    local_fn=partial(_here_after_the_pool, str(tmp_path)),
                    initializer=_start_after_this_process, initargs=(str(tmp_path),))


def test_the_initializer_runs_in_each_worker_not_here(tmp_path, cold_server):
    out = process_map(partial(_by_pool, str(tmp_path)), list(range(30)), 2,
                      local_fn=partial(_here_after_the_pool, str(tmp_path)),
                      initializer=_start_after_this_process, initargs=(str(tmp_path), "from init"))
    assert _SETTING == {}
    assert {value for _, pid, value in out if pid != os.getpid()} == {"from init"}
    assert {value for _, pid, value in out if pid == os.getpid()} == {None}
