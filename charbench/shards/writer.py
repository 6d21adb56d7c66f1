"""Write shards atomically: a temporary name first, renamed only once the file is complete."""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from charbench.deflate import deflate
from charbench.pool import available_cores
from charbench.shards.content import content_sha256, file_sha256
from charbench.shards.schema import (
    ARRAYS,
    CLASS_CODEPOINT,
    CLASS_NAME,
    COMPRESSION,
    COMPRESSION_LEVEL,
    image_chunk_rows,
)


@dataclass(frozen=True)
class ShardInfo:
    """What index.json records about one written shard (and its receipt, about the planned rows it left out)."""

    file: str
    count: int
    sha256: str
    content_sha256: str
    dropped: tuple = ()  # (label, variant, reason, name) of planned rows whose image could not be decoded
    # (size, sha256) by path of the raw files the shard was built from, read whole: for index.json's source record,
    # in the process that started the build (not in the receipt)
    read: Mapping[str, tuple[int, str]] = field(default_factory=dict, compare=False, repr=False)

    def as_dict(self) -> dict:
        out = {"file": self.file, "count": self.count, "sha256": self.sha256, "content_sha256": self.content_sha256}
        return {**out, "dropped": [list(d) for d in self.dropped]} if self.dropped else out


def write_shard(
    path: Path,
    arrays: Mapping[str, np.ndarray],
    class_names: list[str],
    codepoints: list[int],
    attrs: Mapping,
    dropped: tuple = (),
) -> ShardInfo:
    """Write one shard file at ``path`` (via ``path.tmp``) and return its hashes.

    Args:
        path: final file name, ``<split>-00000-of-00004.h5``.
        arrays: every array of ``schema.ARRAYS``, all with the same first dimension.
        class_names: the dataset's class table, index = label.
        codepoints: Unicode codepoint per class, -1 where none.
        attrs: the shard attributes of ``schema.SHARD_ATTRS``.
        dropped: planned rows left out (see ShardInfo), for the receipt and index.json.
    """
    arrays = {name: np.asarray(arrays[name], dtype=dtype) for name, (dtype, _) in ARRAYS.items()}
    count = len(arrays["labels"])
    if any(len(a) != count for a in arrays.values()):
        raise ValueError(f"arrays of unequal length for {path.name}: { {k: len(a) for k, a in arrays.items()} }")
    tmp = path.with_name(path.name + ".tmp")
    # The content hash needs only the arrays: compute it alongside the write (sha256 releases the GIL).
    with ThreadPoolExecutor(max_workers=1) as pool:
        content = pool.submit(content_sha256, arrays, class_names, codepoints, attrs)
        _write_file(tmp, arrays, class_names, codepoints, attrs)
        _fsync(tmp)
        os.replace(tmp, path)
        return ShardInfo(path.name, count, file_sha256(path), content.result(), tuple(dropped))


def _write_file(tmp: Path, arrays: dict, class_names: list[str], codepoints: list[int], attrs: Mapping) -> None:
    with h5py.File(tmp, "w", track_order=True) as f:
        for name, a in arrays.items():
            _create(f, name, a)
        f.create_dataset(CLASS_NAME, data=np.array(class_names, dtype=h5py.string_dtype("utf-8")), track_times=False)
        f.create_dataset(CLASS_CODEPOINT, data=np.asarray(codepoints, dtype=np.int32), track_times=False)
        for key, value in attrs.items():
            f.attrs[key] = value


def _create(f: h5py.File, name: str, a: np.ndarray) -> None:
    # track_times=False: HDF5 would otherwise stamp each object with its creation time.
    if a.ndim == 3:
        rows = image_chunk_rows(a.shape[1] if a.shape[1] else 1)
        chunks = (max(1, min(rows, len(a))), *a.shape[1:]) if len(a) else None
    else:
        chunks = (max(1, min(1 << 16, len(a))),) if len(a) else None
    dset = f.create_dataset(
        name,
        shape=a.shape,
        dtype=a.dtype,
        data=None if a.ndim == 3 and chunks else a,
        chunks=chunks,
        compression=COMPRESSION if chunks else None,
        compression_opts=COMPRESSION_LEVEL if chunks else None,
        shuffle=False,
        track_times=False,
    )
    if a.ndim == 3 and chunks:
        _write_compressed_chunks(dset, a, chunks[0])


def _write_compressed_chunks(dset: h5py.Dataset, a: np.ndarray, rows: int) -> None:
    """Deflate the image chunks on a thread pool (zlib and ISA-L release the GIL) and store them as they are.

    HDF5's gzip filter stores each chunk as one zlib stream, which is what ``deflate`` makes; edge chunks
    are stored full size, so the last one is zero-padded. Any HDF5 reader sees an ordinary gzip dataset.
    """

    def compress(start: int) -> bytes:
        block = a[start : start + rows]
        if len(block) < rows:
            block = np.concatenate([block, np.zeros((rows - len(block), *a.shape[1:]), a.dtype)])
        return deflate(np.ascontiguousarray(block).tobytes(), COMPRESSION_LEVEL)

    starts = range(0, len(a), rows)
    with ThreadPoolExecutor(max_workers=available_cores()) as pool:
        for start, data in zip(starts, pool.map(compress, starts)):
            dset.id.write_direct_chunk((start, 0, 0), data)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
