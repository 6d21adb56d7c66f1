"""Read prepared datasets: one split at a time, shard by shard, with plain numpy arrays.

A reader pins the build it opened, so a dataset replaced by ``prepare --force`` while it is read is seen whole, old
or new, never mixed. ``prepare`` swaps a finished folder in by two renames (``staging.py``): every build gets a new
folder, and a folder swapped out never comes back once another took its place. So the identity of a dataset folder
(``dataset_identity``) names one build, and when it is the same before and after a set of files was opened, all of
them belong to that build. ``SplitReader`` opens index.json and every shard of its split between two such checks,
retrying while a swap is under way, and keeps the shards open: open files keep their data on POSIX even after the
old folder is deleted. A process that did not open the files itself (a forked DataLoader worker, an unpickled copy;
h5py handles do not survive a fork) re-opens them by path and refuses the dataset if the folder is no longer the
build pinned at first.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Self

import h5py
import numpy as np

from charbench.errors import ShardFormatError
from charbench.shards.index import list_datasets, read_index
from charbench.shards.schema import INDEX_FILE, SCHEMA_VERSION
from charbench.shards.staging import old_prefix

__all__ = ["MAX_PINNED_SHARDS", "SplitReader", "dataset_identity", "list_datasets", "open_dataset", "open_shard"]

# A split with more shards is not kept open whole (file-descriptor limits): a shard is opened when read, with the
# folder's identity checked, and the last MAX_OPEN_UNPINNED of them stay open.
MAX_PINNED_SHARDS = 256
MAX_OPEN_UNPINNED = 32
# Pauses between attempts to open a dataset that changes while it is opened (about 2 s in all).
RETRY_DELAYS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6, 0.6)


def dataset_identity(folder: Path) -> tuple[int, ...]:
    """What tells one build of ``folder`` from another: the folder's (device, inode) and index.json's
    (inode, size, mtime). Raises FileNotFoundError (or another OSError) when either is missing."""
    d = os.stat(folder)
    i = os.stat(Path(folder) / INDEX_FILE)
    return (d.st_dev, d.st_ino, i.st_ino, i.st_size, i.st_mtime_ns)


def check_identity(folder: Path, identity: tuple[int, ...]) -> None:
    """Raise ShardFormatError unless ``folder`` is still the build whose identity is ``identity``."""
    try:
        now = dataset_identity(folder)
    except OSError:
        now = None
    if now != identity:
        raise ShardFormatError(f"{folder} was replaced since it was opened; open it again")


def open_shard(path: Path, folder: Path, identity: tuple[int, ...], **options) -> h5py.File:
    """Open shard file ``path`` of ``folder`` read-only (``options`` go to h5py.File), refusing it unless the
    folder is still the build ``identity`` pinned."""
    try:
        f = h5py.File(path, "r", **options)
    except OSError as exc:
        check_identity(folder, identity)  # a replaced folder explains a vanished file better
        raise ShardFormatError(f"cannot open shard {path}: {exc}") from None
    # Checked after the open: the folder was this build when pinned and is again now, and a build never
    # returns once swapped out, so the file just opened is the pinned build's.
    try:
        check_identity(folder, identity)
    except ShardFormatError:
        f.close()
        raise
    return f


class _Changed(Exception):
    """The dataset folder changed (or vanished in a swap) while a reader was opening it: try again."""


class SplitReader:
    """One split of a prepared dataset. Labels, groups and source ids are read eagerly (small); images lazily.

    The shard files stay open until ``close()`` (or the end of a ``with`` block), so the reader keeps returning
    the build it opened even if the dataset is replaced meanwhile. Pickled or forked copies re-open the files
    and raise ShardFormatError if the dataset was replaced since it was opened.
    """

    def __init__(self, dataset_dir: Path, split: str, chunk_cache_bytes: int | None = None):
        self.path = Path(dataset_dir)
        self.split = split
        # HDF5's chunk cache per open shard; per-item readers want several chunks cached (ShardDataset)
        self._h5_options = {"rdcc_nbytes": chunk_cache_bytes} if chunk_cache_bytes else {}
        self._files: dict[int, h5py.File] = {}
        self._pinned = False
        self._pid = os.getpid()
        for delay in (*RETRY_DELAYS, None):
            try:
                self._open_build()
                return
            except _Changed:
                if delay is None:
                    break
                time.sleep(delay)
        raise ShardFormatError(self._changing_message())

    def _open_build(self) -> None:
        """Read index.json, open the split's shards and read their small columns, all from one build."""
        try:
            before = dataset_identity(self.path)
        except (FileNotFoundError, NotADirectoryError):
            if not self._swap_in_progress():
                read_index(self.path)  # raises the usual "not a prepared dataset" message
            raise _Changed from None  # in a swap's gap (or it appeared just now)
        self._files = {}
        try:
            self._load_index(read_index(self.path))
            self.identity = before
            self._pinned = len(self.shard_paths) <= MAX_PINNED_SHARDS
            if self._pinned:
                for i in range(len(self.shard_paths)):
                    self._files[i] = self._open(i, check=False)
            self.labels, self.groups, self.source_ids, self.variants = self._columns(
                "labels", "groups", "source_ids", "variants")
            unchanged = dataset_identity(self.path) == before
        except (OSError, ShardFormatError):
            self.close()
            if self._same(before):
                raise  # a real problem of this build, not a swap
            raise _Changed from None
        if not unchanged:
            self.close()
            raise _Changed

    def _load_index(self, index: dict) -> None:
        self.index = index
        splits = index["splits"]
        if self.split not in splits:
            raise ShardFormatError(f"{self.path} has no split {self.split!r}; it has {', '.join(splits) or 'none'}")
        entry = splits[self.split]
        self.shard_paths = [self.path / s["file"] for s in entry["shards"]]
        self.shard_counts = [int(s["count"]) for s in entry["shards"]]
        self._starts = np.concatenate([[0], np.cumsum(self.shard_counts)]).astype(np.int64)
        if int(self._starts[-1]) != int(entry["count"]):
            raise ShardFormatError(f"{self.path}/index.json: split {self.split} counts {entry['count']} "
                                   f"but its shards add up to {int(self._starts[-1])}")

    def _same(self, identity: tuple[int, ...]) -> bool:
        try:
            return dataset_identity(self.path) == identity
        except OSError:
            return False

    def _swap_in_progress(self) -> bool:
        """A replace is between its two renames (``.<name>.old-*`` exists), or the dataset is back already."""
        prefix = old_prefix(self.path.name)
        try:
            with os.scandir(self.path.parent) as entries:
                if any(e.name.startswith(prefix) for e in entries):
                    return True
        except OSError:
            return False
        return (self.path / INDEX_FILE).is_file()

    def _changing_message(self) -> str:
        message = f"{self.path} changed while being opened (being replaced?); try again"
        if not self.path.exists() and self._swap_in_progress():
            message += (f" (if no prepare is running, a replace was interrupted: the previous dataset is in "
                        f"{self.path.parent / old_prefix(self.path.name)}<pid>, or rerun the prepare)")
        return message

    name = property(lambda self: self.index["name"])
    image_size = property(lambda self: int(self.index["image_size"]))
    num_classes = property(lambda self: len(self.index["classes"]))
    class_names = property(lambda self: [c["name"] for c in self.index["classes"]])
    content_hash = property(lambda self: self.index["splits"][self.split]["content_sha256"])
    dataset_hash = property(lambda self: self.index["content_sha256"])

    def __len__(self) -> int:
        return int(self._starts[-1])

    def _open(self, i: int, check: bool = True) -> h5py.File:
        """Open shard ``i`` and check it against index.json; ``check``: also that the folder is the pinned build."""
        path = self.shard_paths[i]
        if check:
            f = open_shard(path, self.path, self.identity, **self._h5_options)
        else:
            try:
                f = h5py.File(path, "r", **self._h5_options)
            except OSError as exc:
                raise ShardFormatError(f"cannot open shard {path}: {exc}") from None
        version = f.attrs.get("schema_version")
        if version != SCHEMA_VERSION:
            f.close()
            raise ShardFormatError(f"{path} has schema_version {version!r}; expected {SCHEMA_VERSION}")
        found = len(f["labels"])
        if found != self.shard_counts[i]:
            f.close()
            raise ShardFormatError(f"{path} holds {found} examples; index.json says {self.shard_counts[i]}")
        return f

    def _shard(self, i: int, check: bool = True) -> h5py.File:
        """Shard ``i`` of the pinned build, opened once per process: kept for good when the split is pinned, else
        among the last MAX_OPEN_UNPINNED opened."""
        if self._pid != os.getpid():  # forked or unpickled: the handles here are not usable, re-open by path
            self._files, self._pid = {}, os.getpid()
        f = self._files.pop(i, None)
        if f is None:
            f = self._open(i, check=check or self._pinned)
            if not self._pinned and len(self._files) >= MAX_OPEN_UNPINNED:
                self._files.pop(next(iter(self._files))).close()
        self._files[i] = f  # most recently used last
        return f

    def shard_images(self, i: int) -> h5py.Dataset:
        """The ``/images`` dataset of shard ``i`` (for per-item readers; ``read`` and ``iter_shards`` copy out)."""
        return self._shard(i)["images"]

    def _columns(self, *names: str) -> list[np.ndarray]:
        parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
        for i in range(len(self.shard_paths)):
            f = self._shard(i, check=False)
            for name in names:
                parts[name].append(f[name][...])
        return [np.concatenate(parts[name]) if parts[name] else np.zeros(0) for name in names]

    def iter_shards(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(images uint8 [n,S,S], labels int32 [n])`` one shard at a time, in order."""
        for i in range(len(self.shard_paths)):
            f = self._shard(i)
            yield f["images"][...], f["labels"][...]

    def read(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Images ``start:stop`` of the split (across shard boundaries) as one uint8 array."""
        stop = len(self) if stop is None else min(stop, len(self))
        s = self.image_size
        out = np.empty((max(0, stop - start), s, s), dtype=np.uint8)
        pos = 0
        for i in range(len(self.shard_paths)):
            lo, hi = max(start, self._starts[i]), min(stop, self._starts[i + 1])
            if lo >= hi:
                continue
            out[pos : pos + hi - lo] = self._shard(i)["images"][lo - self._starts[i] : hi - self._starts[i]]
            pos += hi - lo
        return out

    def images(self) -> np.ndarray:
        """The whole split's images in memory (use iter_shards for splits that do not fit)."""
        return self.read(0, len(self))

    def close(self) -> None:
        """Close the shard files. A later read re-opens them, and refuses a dataset replaced meanwhile."""
        if self._pid == os.getpid():
            for f in self._files.values():
                f.close()
        self._files, self._pid = {}, os.getpid()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_files": {}}


def open_dataset(path: str | Path, split: str = "train", chunk_cache_bytes: int | None = None) -> SplitReader:
    """Open ``split`` of the prepared dataset in folder ``path`` (the one holding index.json)."""
    return SplitReader(Path(path), split, chunk_cache_bytes)
