"""A prepared dataset appears whole or not at all: build in a hidden folder, then swap it in under a lock.

The swap is two renames: ``<name>`` to ``.<name>.old-<pid>``, then ``.<name>.tmp-<pid>`` to ``<name>``; the old
folder is deleted after. Every build thus lives in a folder of its own, and one swapped out never comes back once
another took its place, which is what lets readers pin a build (``reader.py``). Between the two renames ``<name>``
is briefly missing while the hidden ``.old-`` folder exists: a reader that finds the dataset missing next to such a
folder waits and retries.
"""

from __future__ import annotations

import fcntl
import glob
import os
import shutil
from pathlib import Path
from typing import Self

from charbench.errors import DatasetExistsError, ShardFormatError
from charbench.shards.index import read_index
from charbench.shards.schema import INDEX_FILE


def old_prefix(name: str) -> str:
    """Name prefix of the hidden folder that holds dataset ``name``'s previous build during a swap."""
    return f".{name}.old-"


class StagedDataset:
    """Context manager: ``with StagedDataset(out / name, force) as stage:`` write into ``stage.tmp``, then ``commit()``.

    Two prepares of the same dataset exclude each other through an fcntl lock on ``.<name>.lock``; a run
    that dies leaves only the hidden ``.<name>.tmp-<pid>`` folder, which no reader treats as a dataset and
    the next run removes; one killed between the two renames of ``commit`` leaves the previous dataset in
    ``.<name>.old-<pid>``, which the next run puts back.
    """

    def __init__(self, final: Path, force: bool = False, resume: bool = False):
        self.final = Path(final)
        self.force = force
        self.resume = resume
        self.parent = self.final.parent
        self.tmp = self.parent / f".{self.final.name}.tmp-{os.getpid()}"
        self._lock_fd: int | None = None

    def __enter__(self) -> Self:
        self.parent.mkdir(parents=True, exist_ok=True)
        self._lock()
        self._recover_swap()
        if (self.final / INDEX_FILE).exists() and not self.force:
            self._unlock()
            raise DatasetExistsError(f"{self.final} is already prepared; pass --force to replace it")
        stale = sorted(self.parent.glob(f".{self.final.name}.tmp-*"), key=lambda p: p.stat().st_mtime)
        if self.resume and stale:
            os.replace(stale.pop(), self.tmp)  # the newest interrupted build; its ledger says what is reusable
        for folder in stale:
            shutil.rmtree(folder, ignore_errors=True)
        self.tmp.mkdir(exist_ok=True)
        return self

    def commit(self) -> Path:
        """Swap the finished folder into place (the old one, if any, is removed after the swap)."""
        old = self.parent / f"{old_prefix(self.final.name)}{os.getpid()}"
        # Nothing but the two renames while <name> is missing: readers wait for the gap to end.
        try:
            os.replace(self.final, old)
        except FileNotFoundError:
            old = None  # a first prepare: nothing to swap out
        try:
            os.replace(self.tmp, self.final)
        except BaseException:
            if old is not None:
                os.replace(old, self.final)  # put the previous build back
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.final

    def __exit__(self, *exc) -> None:
        if self.tmp.exists():
            shutil.rmtree(self.tmp, ignore_errors=True)
        self._unlock()

    def _recover_swap(self) -> None:
        """Clear what an interrupted swap left (we hold the lock, so no swap is running): with ``<name>`` missing,
        a whole ``.old-`` folder is the previous dataset and goes back into place; the others (a removal cut
        short) are deleted."""
        olds = sorted(self.parent.glob(f"{glob.escape(old_prefix(self.final.name))}*"), key=lambda p: p.stat().st_mtime)
        if not self.final.exists():
            whole = [p for p in olds if _is_whole(p)]
            if whole:
                os.replace(whole[-1], self.final)
                olds.remove(whole[-1])
        for folder in olds:
            shutil.rmtree(folder, ignore_errors=True)

    def _lock(self) -> None:
        path = self.parent / f".{self.final.name}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DatasetExistsError(
                f"another charbench prepare is writing {self.final} (lock {path}); wait for it to finish"
            ) from None
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None


def _is_whole(folder: Path) -> bool:
    """``folder`` holds a readable index.json and every shard it lists."""
    try:
        index = read_index(folder)
        return all((folder / s["file"]).is_file() for e in index["splits"].values() for s in e["shards"])
    except (ShardFormatError, KeyError, TypeError, AttributeError):
        return False
