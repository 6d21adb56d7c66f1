"""Deflate and gunzip through python-isal (Intel ISA-L) when it is installed, else through the standard library.

ISA-L's level-1 deflate is 3-5x faster than zlib's and writes an ordinary zlib stream, so every HDF5 gzip reader
still reads the shards. Content hashes cover the arrays, not the compressed bytes, so the backend never changes a
dataset's hash; only the shard files' own sha256 (which depend on the HDF5 build anyway) differ between backends.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import BinaryIO

try:
    from isal import igzip as _gzip
    from isal import isal_zlib as _zlib

    BACKEND = "isal"
    GZIP_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, zlib.error, _zlib.error)
except ImportError:  # a platform without an isal wheel
    import gzip as _gzip
    import zlib as _zlib

    BACKEND = "zlib"
    GZIP_ERRORS = (OSError, EOFError, zlib.error)


def deflate(data: bytes, level: int) -> bytes:
    """One zlib stream (what HDF5's gzip filter stores per chunk) of ``data`` at ``level`` (1 = fastest)."""
    return _zlib.compress(data, level)


def open_gzip(path: Path) -> BinaryIO:
    """``path`` opened for reading decompressed bytes; errors of a corrupt stream are among ``GZIP_ERRORS``."""
    return _gzip.open(path, "rb")
