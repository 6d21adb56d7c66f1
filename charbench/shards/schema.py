"""The on-disk contract of DESIGN.md, declared once; the writer, reader and verifier all import it.

Layout of a prepared dataset::

    <out>/<dataset>/index.json
    <out>/<dataset>/<split>-00000-of-00004.h5

Each shard holds /images uint8 [N,S,S] (ink 255, background 0), /labels int32 [N], /groups int32 [N]
(-1 where unknown), /source_ids int64 [N] (row of the raw source; oversampled copies point at their
original), /variants int32 [N] (0 = original image, k > 0 = k-th varied copy made by the balancer),
/classes/name (utf-8) and /classes/codepoint (int32, -1 where none), plus the attributes in SHARD_ATTRS.
"""

from __future__ import annotations

import numpy as np

SCHEMA_VERSION = 1
INDEX_FILE = "index.json"
SPLITS = ("train", "val", "test")

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
    "balance",
    "seed",
    "charbench_version",
    "created_utc",
)
# Attributes that vary between otherwise identical runs; excluded from the content hash.
VOLATILE_ATTRS = ("created_utc", "charbench_version")

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
