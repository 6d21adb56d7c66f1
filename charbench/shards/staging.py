"""A prepared dataset appears whole or not at all: build in a hidden folder, then swap it in under a lock."""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

from charbench.errors import DatasetExistsError
from charbench.shards.schema import INDEX_FILE


class StagedDataset:
    """Context manager: ``with StagedDataset(out / name, force) as stage:`` write into ``stage.tmp``, then ``commit()``.

    Two prepares of the same dataset exclude each other through an fcntl lock on ``.<name>.lock``; a run
    that dies leaves only the hidden ``.<name>.tmp-<pid>`` folder, which no reader treats as a dataset and
    the next run removes.
    """

    def __init__(self, final: Path, force: bool = False, resume: bool = False):
        self.final = Path(final)
        self.force = force
        self.resume = resume
        self.parent = self.final.parent
        self.tmp = self.parent / f".{self.final.name}.tmp-{os.getpid()}"
        self._lock_fd: int | None = None

    def __enter__(self) -> StagedDataset:
        self.parent.mkdir(parents=True, exist_ok=True)
        self._lock()
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
        old = self.parent / f".{self.final.name}.old-{os.getpid()}"
        if self.final.exists():
            os.replace(self.final, old)
        os.replace(self.tmp, self.final)
        shutil.rmtree(old, ignore_errors=True)
        return self.final

    def __exit__(self, *exc) -> None:
        if self.tmp.exists():
            shutil.rmtree(self.tmp, ignore_errors=True)
        self._unlock()

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
