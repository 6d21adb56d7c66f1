"""The idx format of MNIST and its family (LeCun et al.): a big-endian header, then a dense array.

Header: two zero bytes, a dtype code, the number of dimensions, then one big-endian uint32 per
dimension. Files come plain or gzipped (detected by content, not name). Gzipped files are
decompressed once to a scratch file and memory-mapped, so no corpus is ever held in memory.
"""

from __future__ import annotations

import math
import struct
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from charbench.deflate import GZIP_ERRORS, open_gzip
from charbench.errors import FormatError, RawDataNotFoundError

# dtype code -> big-endian numpy dtype
DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class IdxHeader:
    path: Path
    dtype: np.dtype
    shape: tuple[int, ...]
    offset: int  # bytes before the data
    gzipped: bool

    @property
    def magic(self) -> int:
        code = next(k for k, v in DTYPES.items() if np.dtype(v) == self.dtype)
        return (code << 8) | len(self.shape)

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize  # Python ints: four uint32 dims overflow int64


def is_gzipped(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def _open(path: Path, gzipped: bool):
    return open_gzip(path) if gzipped else open(path, "rb")


def read_header(path: str | Path) -> IdxHeader:
    """Parse and check an idx header (magic, dtype code, dims) without reading the data."""
    path = Path(path)
    if not path.is_file():
        raise RawDataNotFoundError(f"idx file {path} not found (or not a file)")
    gz = is_gzipped(path)
    try:
        with _open(path, gz) as f:
            head = f.read(4)
            if len(head) < 4:
                raise FormatError(f"{path}: truncated idx header ({len(head)} bytes; an idx file starts with 4)")
            zero, code, ndim = struct.unpack(">HBB", head)
            if zero != 0 or code not in DTYPES or not 1 <= ndim <= 4:
                raise FormatError(
                    f"{path}: not an idx file (magic 0x{head.hex()}; expected 0x0000 + dtype code "
                    f"{'/'.join(f'{c:02x}' for c in DTYPES)} + 1-4 dimensions)"
                )
            dims_raw = f.read(4 * ndim)
    except GZIP_ERRORS as exc:
        raise FormatError(f"{path}: cannot read idx header: {exc}") from None
    if len(dims_raw) < 4 * ndim:
        raise FormatError(f"{path}: truncated idx header (dimensions missing)")
    shape = struct.unpack(f">{ndim}I", dims_raw)
    # numpy refuses shapes whose nonzero dims multiply past its index range, even when another dim is 0
    if math.prod(max(d, 1) for d in shape) * np.dtype(DTYPES[code]).itemsize > sys.maxsize:
        raise FormatError(f"{path}: idx dimensions {shape} describe more data than any file can hold")
    return IdxHeader(path, np.dtype(DTYPES[code]), tuple(int(d) for d in shape), 4 + 4 * ndim, gz)


def check_magic(header: IdxHeader, ndim: int, what: str) -> None:
    """Refuse a file whose number of dimensions is not what its role needs (images 3, labels 1)."""
    if len(header.shape) != ndim:
        want = (0x08 << 8) | ndim
        raise FormatError(f"idx magic 0x{want:08x} expected for {what}, got 0x{header.magic:08x} in {header.path}")


def open_idx(path: str | Path, workdir: Path | None = None) -> np.ndarray:
    """Memory-map an idx file as a read-only array of its header's shape and native-endian dtype when possible.

    Gzipped files are decompressed into ``workdir`` (a temporary folder when None) first.
    Raises FormatError on a truncated file or trailing bytes.
    """
    header = read_header(path)
    data_path = header.path
    if header.gzipped:
        data_path = _gunzip(header, Path(workdir or tempfile.mkdtemp(prefix="charbench-idx-")))
    _check_size(header, data_path.stat().st_size - header.offset)
    if header.nbytes == 0:
        return np.zeros(header.shape, dtype=header.dtype.newbyteorder("="))
    arr = np.memmap(data_path, dtype=header.dtype, mode="r", offset=header.offset, shape=header.shape)
    return arr if header.dtype.itemsize == 1 else arr.astype(header.dtype.newbyteorder("="))


def read_idx(path: str | Path) -> np.ndarray:
    """Read a whole idx file into memory (plain or gzipped) with header, size and truncation checks."""
    header = read_header(path)
    limit = header.offset + header.nbytes
    blocks, total = [], 0
    try:
        with _open(header.path, header.gzipped) as f:
            # Read in blocks up to one byte past the promise: a lying header costs no allocation, and the
            # extra byte reveals trailing data.
            while total <= limit and (block := f.read(min(1 << 24, limit + 1 - total))):
                blocks.append(block)
                total += len(block)
    except GZIP_ERRORS as exc:
        raise FormatError(f"{header.path}: corrupt or truncated ({exc})") from None
    raw = b"".join(blocks)
    _check_size(header, len(raw) - header.offset)
    out = np.frombuffer(raw, dtype=header.dtype, count=math.prod(header.shape), offset=header.offset)
    return out.reshape(header.shape).astype(header.dtype.newbyteorder("="), copy=False)


def _check_size(header: IdxHeader, payload: int) -> None:
    if payload < header.nbytes:
        raise FormatError(
            f"{header.path}: truncated idx file: header promises {header.shape} "
            f"({header.nbytes:,} bytes of data), found {payload:,}"
        )
    if payload > header.nbytes:
        raise FormatError(
            f"{header.path}: {payload - header.nbytes:,} unexpected bytes after the idx data of shape {header.shape}"
        )


def _gunzip(header: IdxHeader, workdir: Path) -> Path:
    """Decompress to ``workdir`` (header included, so the result is a plain idx file), stopping past the promise."""
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / header.path.name.removesuffix(".gz")
    limit = header.offset + header.nbytes
    written = 0
    try:
        with open_gzip(header.path) as src, open(out, "wb") as dst:
            while written <= limit and (block := src.read(1 << 20)):
                dst.write(block)
                written += len(block)
    except GZIP_ERRORS as exc:
        raise FormatError(f"{header.path}: corrupt or truncated gzip stream ({exc})") from None
    return out
