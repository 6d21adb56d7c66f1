"""One shard's work, run in the main process or a worker: load pixels, normalise, vary copies, write."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from charbench.datasets.base import Catalog, Converter
from charbench.shards.ledger import record_shard
from charbench.shards.writer import ShardInfo, write_shard


@dataclass(frozen=True)
class Normalization:
    size: int
    binarize: str
    center: str
    margin: int
    invert: str

    def is_identity(self, native_size: int | None) -> bool:
        return (self.binarize == "none" and self.center == "none" and self.invert == "no"
                and native_size is not None and self.size == native_size)

    def as_dict(self) -> dict:
        return {"size": self.size, "binarize": self.binarize, "center": self.center, "margin": self.margin,
                "invert": self.invert}


@dataclass(frozen=True)
class ShardTask:
    path: Path
    rows: np.ndarray  # catalog rows, in shard order
    variants: np.ndarray  # int32, 0 = original
    attrs: dict


def variation_seeds(seed: int, source_ids: np.ndarray, variants: np.ndarray) -> np.ndarray:
    """A seed per varied copy from (run seed, original's source id, copy number): stable on any machine."""
    mix = (np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)) ^ (source_ids.astype(np.uint64) * np.uint64(1000003))
    return ((mix + variants.astype(np.uint64)) & np.uint64(0x7FFFFFFFFFFFFFFF)).astype(np.int64)


def render_images(converter: Converter, catalog: Catalog, norm: Normalization, rows: np.ndarray,
                  variants: np.ndarray, seed: int) -> np.ndarray:
    """Pixels of ``rows`` as uint8 [n, S, S]: each distinct row decoded once, copies varied."""
    unique, inverse = np.unique(rows, return_inverse=True)
    raw = converter.load(unique)
    if norm.is_identity(catalog.native_size):
        images = np.asarray(raw, dtype=np.uint8)
    else:
        from charbench.kernels import normalize

        images = normalize(raw, size=norm.size, binarize=norm.binarize, margin=norm.margin, center=norm.center,
                           invert=norm.invert)
    images = images[inverse]
    copies = np.flatnonzero(variants > 0)
    if len(copies):
        from charbench.kernels import vary

        seeds = variation_seeds(seed, catalog.source_ids[rows[copies]], variants[copies])
        images[copies] = vary(np.ascontiguousarray(images[copies]), seeds)
    return images


def build_shard(converter: Converter, catalog: Catalog, norm: Normalization, group_key: str | None,
                task: ShardTask) -> ShardInfo:
    """Render and write one shard; returns its ShardInfo for index.json."""
    rows = task.rows
    images = render_images(converter, catalog, norm, rows, task.variants, int(task.attrs["seed"]))
    groups = catalog.groups[group_key][rows] if group_key else np.full(len(rows), -1, np.int32)
    arrays = {"images": images, "labels": catalog.labels[rows], "groups": groups,
              "source_ids": catalog.source_ids[rows], "variants": task.variants}
    names = [c.name for c in catalog.classes]
    codepoints = [c.codepoint for c in catalog.classes]
    info = write_shard(task.path, arrays, names, codepoints, task.attrs)
    record_shard(task.path.parent, info)
    return info


# Worker-process state: the scanned converter and catalog arrive once, through the pool initializer.
_STATE: dict = {}


def init_worker(converter: Converter, catalog: Catalog, norm: Normalization, group_key: str | None,
                threads: int) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    try:
        import numba

        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    except ImportError:  # pragma: no cover - numba is a hard dependency
        pass
    _STATE.update(converter=converter, catalog=catalog, norm=norm, group_key=group_key)


def build_shard_in_worker(task: ShardTask) -> ShardInfo:
    return build_shard(_STATE["converter"], _STATE["catalog"], _STATE["norm"], _STATE["group_key"], task)
