"""Read prepared datasets: one split at a time, shard by shard, with plain numpy arrays.

Files are opened lazily and per call, so a reader can be handed to DataLoader worker processes
(an h5py handle does not survive a fork).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np

from charbench.errors import ShardFormatError
from charbench.shards.index import list_datasets, read_index
from charbench.shards.schema import SCHEMA_VERSION

__all__ = ["SplitReader", "list_datasets", "open_dataset"]


class SplitReader:
    """One split of a prepared dataset. Labels, groups and source ids are read eagerly (small); images lazily."""

    def __init__(self, dataset_dir: Path, split: str):
        self.path = Path(dataset_dir)
        self.index = read_index(self.path)
        splits = self.index["splits"]
        if split not in splits:
            raise ShardFormatError(f"{self.path} has no split {split!r}; it has {', '.join(splits) or 'none'}")
        self.split = split
        entry = splits[split]
        self.shard_paths = [self.path / s["file"] for s in entry["shards"]]
        self.shard_counts = [int(s["count"]) for s in entry["shards"]]
        self._starts = np.concatenate([[0], np.cumsum(self.shard_counts)]).astype(np.int64)
        if int(self._starts[-1]) != int(entry["count"]):
            raise ShardFormatError(f"{self.path}/index.json: split {split} counts {entry['count']} "
                                   f"but its shards add up to {int(self._starts[-1])}")
        self.labels = self._column("labels")
        self.groups = self._column("groups")
        self.source_ids = self._column("source_ids")
        self.variants = self._column("variants")

    name = property(lambda self: self.index["name"])
    image_size = property(lambda self: int(self.index["image_size"]))
    num_classes = property(lambda self: len(self.index["classes"]))
    class_names = property(lambda self: [c["name"] for c in self.index["classes"]])
    content_hash = property(lambda self: self.index["splits"][self.split]["content_sha256"])
    dataset_hash = property(lambda self: self.index["content_sha256"])

    def __len__(self) -> int:
        return int(self._starts[-1])

    def _open(self, i: int) -> h5py.File:
        path = self.shard_paths[i]
        try:
            f = h5py.File(path, "r")
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

    def _column(self, name: str) -> np.ndarray:
        parts = []
        for i in range(len(self.shard_paths)):
            with self._open(i) as f:
                parts.append(f[name][...])
        return np.concatenate(parts) if parts else np.zeros(0)

    def iter_shards(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(images uint8 [n,S,S], labels int32 [n])`` one shard at a time, in order."""
        for i in range(len(self.shard_paths)):
            with self._open(i) as f:
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
            with self._open(i) as f:
                out[pos : pos + hi - lo] = f["images"][lo - self._starts[i] : hi - self._starts[i]]
            pos += hi - lo
        return out

    def images(self) -> np.ndarray:
        """The whole split's images in memory (use iter_shards for splits that do not fit)."""
        return self.read(0, len(self))


def open_dataset(path: str | Path, split: str = "train") -> SplitReader:
    """Open ``split`` of the prepared dataset in folder ``path`` (the one holding index.json)."""
    return SplitReader(Path(path), split)
