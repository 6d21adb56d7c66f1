"""Synthetic MNIST-layout idx files (gz or plain), with the same header rules the reader checks."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from charbench.synth.glyphs import GlyphGenerator, assign

_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B, np.dtype(">i4"): 0x0C,
          np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    """The idx encoding of ``array``: magic (0, 0, dtype code, ndim), big-endian dims, big-endian data."""
    a = np.asarray(array)
    if a.dtype.itemsize > 1:
        a = a.astype(a.dtype.newbyteorder(">"))
    code = _CODES[a.dtype if a.dtype.itemsize > 1 else np.dtype(a.dtype.name)]
    return struct.pack(">HBB", 0, code, a.ndim) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes()


def write_idx(path: Path, array: np.ndarray, gz: bool | None = None) -> Path:
    """Write ``array`` as an idx file; gzipped when ``gz`` is True or the name ends in .gz."""
    path = Path(path)
    data = idx_bytes(array)
    if gz if gz is not None else path.suffix == ".gz":
        data = gzip.compress(data, compresslevel=6, mtime=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_mnist_layout(root: Path, *, train_per_class: int = 60, test_per_class: int = 10, num_classes: int = 10,
                       size: int = 28, gz: bool = True, seed: int = 0) -> Path:
    """MNIST's four files in ``root`` (white ink on black, ``size`` x ``size``); returns ``root``."""
    gen = GlyphGenerator(num_classes, seed)
    suffix = ".gz" if gz else ""
    for prefix, per_class, writers in (("train", train_per_class, 40), ("t10k", test_per_class, 10)):
        labels, who = assign(num_classes, per_class, writers, seed + (prefix == "t10k"))
        who = who + (1000 if prefix == "t10k" else 0)
        write_idx(root / f"{prefix}-images-idx3-ubyte{suffix}", gen.images(labels, who, size))
        write_idx(root / f"{prefix}-labels-idx1-ubyte{suffix}", labels.astype(np.uint8))
    return root
