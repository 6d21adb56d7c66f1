"""The on-disk contract of DESIGN.md, declared once: what a shard holds, its attributes, index.json's skeleton and
the hashes over both. The writer, the ledger, verify and the in-memory writer all build them here.

Layout of a prepared dataset::

    <out>/<dataset>/index.json
    <out>/<dataset>/<split>-00000-of-00004.h5

Each shard holds /images uint8 [N,S,S] (ink 255, background 0), /labels int32 [N], /groups int32 [N]
(-1 where unknown), /source_ids int64 [N] (row of the raw source; oversampled copies point at their
original), /variants int32 [N] (0 = original image, k > 0 = k-th varied copy made by the balancer),
/classes/name (utf-8) and /classes/codepoint (int32, -1 where none), plus the attributes in SHARD_ATTRS.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

SCHEMA_VERSION = 1
INDEX_FILE = "index.json"
SPLITS = ("train", "val", "test")
# Split codes, as splits.assign returns them and converters mark a published split: positions in SPLITS.
TRAIN, VAL, TEST = 0, 1, 2

# name -> (dtype, rank); the first axis is always N.
ARRAYS: dict[str, tuple[np.dtype, int]] = {
    "images": (np.dtype(np.uint8), 3),
    "labels": (np.dtype(np.int32), 1),
    "groups": (np.dtype(np.int32), 1),
    "source_ids": (np.dtype(np.int64), 1),
    "variants": (np.dtype(np.int32), 1),
}
CLASS_NAME = "classes/name"
CLASS_CODEPOINT = "classes/codepoint"

SHARD_ATTRS = (
    "schema_version",
    "dataset",
    "split",
    "shard_index",
    "num_shards",
    "image_size",
    "binarization",
    "center",
    "margin",
    "invert",
    "balance",
    "seed",
    "charbench_version",
    "created_utc",
)
# Attributes that vary between otherwise identical runs; excluded from the content hash.
VOLATILE_ATTRS = ("created_utc", "charbench_version")
# index.json keys a reader needs; the rest is the dataset card.
INDEX_REQUIRED = ("schema_version", "name", "image_size", "classes", "splits", "content_sha256")

# gzip: every HDF5 build reads it (lzf / plugin filters would shut out other readers).
COMPRESSION = "gzip"
COMPRESSION_LEVEL = 1  # level 4 is 40% slower to write for 8% smaller shards; reading speed is the same
CHUNK_TARGET_BYTES = 256 * 1024
DEFAULT_SHARD_SIZE = 50_000


def shard_name(split: str, index: int, count: int) -> str:
    """File name of shard ``index`` of ``count`` in ``split``: ``train-00000-of-00004.h5``."""
    return f"{split}-{index:05d}-of-{count:05d}.h5"


def num_shards(count: int, shard_size: int) -> int:
    """How many shards hold ``count`` examples at ``shard_size`` per shard (at least one)."""
    return max(1, -(-count // shard_size))


def image_chunk_rows(image_size: int) -> int:
    """Whole images per chunk, so a chunk is roughly CHUNK_TARGET_BYTES (within 64 KiB to 1 MiB)."""
    return max(1, CHUNK_TARGET_BYTES // (image_size * image_size))


def shard_attrs(*, dataset: str, split: str, shard_index: int, num_shards: int, image_size: int,
                normalization: Mapping[str, Any], balance: str, seed: int, charbench_version: str,
                created_utc: str) -> dict:
    """Every attribute of SHARD_ATTRS for one shard; ``normalization`` gives binarize, center, margin and invert."""
    attrs = {"schema_version": SCHEMA_VERSION, "dataset": dataset, "split": split, "shard_index": shard_index,
             "num_shards": num_shards, "image_size": image_size, "binarization": normalization["binarize"],
             "center": normalization["center"], "margin": normalization["margin"],
             "invert": normalization["invert"], "balance": balance, "seed": seed,
             "charbench_version": charbench_version, "created_utc": created_utc}
    assert tuple(attrs) == SHARD_ATTRS  # the declaration and the builder stay one
    return attrs


def index_skeleton(*, name: str, converter: str, config: str | None, converter_version: str,
                   charbench_version: str, created_utc: str, image_size: int, classes: Iterable[tuple[str, int]],
                   **card: Any) -> dict:
    """index.json without its splits and hashes: identity, provenance and the class table (codepoint None where -1).

    ``card`` adds the rest of the dataset card (normalization, split, balance, sources, skipped, notes ...).
    """
    table = [{"name": n, "codepoint": cp if cp >= 0 else None} for n, cp in classes]
    return {"schema_version": SCHEMA_VERSION, "name": name, "converter": converter, "config": config,
            "converter_version": converter_version, "charbench_version": charbench_version,
            "created_utc": created_utc, "image_size": image_size, "num_classes": len(table), "classes": table,
            **card}


def split_hash(shard_hashes: Iterable[str]) -> str:
    """Content hash of a split: over its shards' content hashes (``shards.content.content_sha256``), in order."""
    return _combine(shard_hashes)


def dataset_hash(split_hashes: Mapping[str, str]) -> str:
    """Content hash of a dataset: over ``split:hash`` of its splits, in index order."""
    return _combine(f"{name}:{h}" for name, h in split_hashes.items())


def _combine(hashes: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest()
