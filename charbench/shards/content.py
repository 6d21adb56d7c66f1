"""Content hashes: what two runs must agree on, independent of HDF5 library version or file layout."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

import numpy as np

from charbench.shards.schema import ARRAYS, VOLATILE_ATTRS


def content_sha256(arrays: Mapping[str, np.ndarray], class_names: list[str], codepoints: list[int], attrs: Mapping) -> str:
    """sha256 over every array (name, dtype, shape, bytes), the class table and the stable attributes."""
    h = hashlib.sha256()
    for name in ARRAYS:
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    h.update(json.dumps([class_names, [int(c) for c in codepoints]], ensure_ascii=False).encode())
    stable = {k: _plain(v) for k, v in sorted(attrs.items()) if k not in VOLATILE_ATTRS}
    h.update(json.dumps(stable, sort_keys=True).encode())
    return h.hexdigest()


def file_sha256(path, chunk: int = 1 << 20) -> str:
    """sha256 of a file's bytes, streamed."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _plain(value):
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value
