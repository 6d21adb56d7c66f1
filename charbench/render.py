"""One shard's work, run in the main process or a worker: load pixels, normalise, vary copies, write."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from charbench.datasets.base import Catalog, Converter, Decoded
from charbench.errors import FormatError
from charbench.io.source import recorded_reads
from charbench.kernels.ragged import Ragged
from charbench.shards.ledger import record_shard
from charbench.shards.writer import ShardInfo, write_shard

POLARITY_SAMPLE = 256  # images sampled to fix a pixel-exact dataset's ink polarity


@dataclass(frozen=True)
class Normalization:
    size: int
    binarize: str
    center: str
    margin: int
    invert: str
    polarity: dict | None = None  # how a dataset-wide invert was decided (see prepare), for index.json

    def pixel_exact(self, native_size: int | None) -> bool:
        """True when images are stored at their own size without binarising or moving them (inverting aside)."""
        return (self.binarize == "none" and self.center == "none" and native_size is not None
                and self.size == native_size)

    def is_identity(self, native_size: int | None) -> bool:
        return self.pixel_exact(native_size) and self.invert == "no"

    def as_dict(self) -> dict:
        out = {"size": self.size, "binarize": self.binarize, "center": self.center, "margin": self.margin,
               "invert": self.invert}
        return {**out, "polarity": self.polarity} if self.polarity else out


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
                  variants: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, dict[int, tuple[str, str]]]:
    """Pixels of ``rows`` as uint8 [k, S, S], each distinct row decoded once and copies varied; with the mask of the
    rows kept (those whose image decoded) and the failures by distinct row."""
    unique, inverse = np.unique(rows, return_inverse=True)
    images, decoded, failed = _load_normalized(converter, catalog, norm, unique)
    keep = decoded[inverse]
    images = images[(np.cumsum(decoded) - 1)[inverse[keep]]]
    rows, variants = rows[keep], variants[keep]
    copies = np.flatnonzero(variants > 0)
    if len(copies):
        from charbench.kernels import vary

        seeds = variation_seeds(seed, catalog.source_ids[rows[copies]], variants[copies])
        images[copies] = vary(np.ascontiguousarray(images[copies]), seeds)
    return images, keep, failed


def _load_normalized(converter: Converter, catalog: Catalog, norm: Normalization, unique: np.ndarray):
    """``unique`` rows loaded and normalised ``converter.load_batch`` at a time, so that only one batch of decoded
    pixels is held (a shard of 105x105 PNGs would hold 44 MB of them, and fresh memory costs a page fault per 4 KB).
    Returns the images of the rows that decoded, the mask of those rows, and why the others failed."""
    step = converter.load_batch or max(len(unique), 1)
    decoded, failed = np.ones(len(unique), bool), {}
    out, filled = np.zeros((0, norm.size, norm.size), np.uint8), 0
    for start in range(0, len(unique), step):
        part = unique[start : start + step]
        raw = converter.load(part)
        if isinstance(raw, Decoded):
            for k, why in raw.failed.items():
                failed[int(part[k])] = why
                decoded[start + k] = False
            raw = raw.images
        if norm.pixel_exact(catalog.native_size) and isinstance(raw, Ragged):
            _refuse_other_sizes(converter, raw, part[decoded[start : start + step]], norm.size)
        images = normalize_images(raw, norm, catalog.native_size)
        if len(part) == len(unique):
            return images, decoded, failed  # one batch: nothing to gather
        if start == 0:
            out = np.empty((len(unique), *images.shape[1:]), np.uint8)
        out[filled : filled + len(images)] = images
        filled += len(images)
    return out[:filled], decoded, failed


def _refuse_other_sizes(converter: Converter, raw: Ragged, rows: np.ndarray, size: int) -> None:
    """A dataset kept at its native size cannot hold an image of another size: name it and the fix."""
    other = np.flatnonzero((raw.shapes != size).any(axis=1))
    if len(other):
        h, w = raw.shapes[other[0]].tolist()
        raise FormatError(f"{converter.describe(int(rows[other[0]]))} is {w}x{h} pixels but this dataset is kept at "
                          f"its native {size}x{size} ({len(other)} such image(s) in this shard); choose an output "
                          "size with --size to normalise every image to it")


def normalize_images(raw, norm: Normalization, native_size: int | None) -> np.ndarray:
    """Decoded images as the shards store them: as they are when nothing is to be done, else through the kernels."""
    if norm.is_identity(native_size):
        return np.asarray(raw, dtype=np.uint8)
    from charbench.kernels import normalize

    return normalize(raw, size=norm.size, binarize=norm.binarize, margin=norm.margin, center=norm.center,
                     invert=norm.invert)


def dataset_polarity(converter: Converter, catalog: Catalog, what: str, count: int = POLARITY_SAMPLE):
    """dataset_invert over ``count`` catalog rows spread evenly over the source (the same rows on every run). It
    lives here, beside the shards' work, because the workers' server has this module imported already."""
    from charbench.kernels.polarity import dataset_invert

    rows = np.unique(np.linspace(0, len(catalog) - 1, min(count, len(catalog))).astype(np.int64))
    images = converter.load(rows)
    return dataset_invert(images.images if isinstance(images, Decoded) else images, what)


def build_shard(converter: Converter, catalog: Catalog, norm: Normalization, group_key: str | None,
                task: ShardTask) -> ShardInfo:
    """Render and write one shard; returns its ShardInfo for index.json.

    Rows whose image does not decode are left out and listed in the ShardInfo (``--strict``: a FormatError).
    """
    with recorded_reads() as read:
        images, keep, failed = render_images(converter, catalog, norm, task.rows, task.variants,
                                             int(task.attrs["seed"]))
    if failed and converter.strict:
        reason, name = next(iter(failed.values()))
        raise FormatError(f"--strict: {name}: {reason} (without --strict unreadable images are skipped and counted)")
    dropped = tuple((int(catalog.labels[r]), int(v), *failed[int(r)]) for r, v in
                    zip(task.rows[~keep], task.variants[~keep]))
    rows, variants = task.rows[keep], task.variants[keep]
    groups = catalog.groups[group_key][rows] if group_key else np.full(len(rows), -1, np.int32)
    arrays = {"images": images, "labels": catalog.labels[rows], "groups": groups,
              "source_ids": catalog.source_ids[rows], "variants": variants}
    names = [c.name for c in catalog.classes]
    codepoints = [c.codepoint for c in catalog.classes]
    info = write_shard(task.path, arrays, names, codepoints, task.attrs, dropped)
    info = replace(info, read=read)
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
