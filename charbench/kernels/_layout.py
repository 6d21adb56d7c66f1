"""Validation of kernel inputs, and the flat view every batch kernel works on (dense or ragged alike)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from charbench.errors import FormatError
from charbench.kernels.ragged import Ragged


@dataclass(frozen=True)
class FlatBatch:
    """Images ``flat[offsets[i] : offsets[i] + h*w]`` with ``shapes[i] = (h, w)``, and where to write results."""

    flat: np.ndarray  # uint8 [total], C-contiguous, writeable (one numba specialisation per kernel)
    offsets: np.ndarray  # int64 [N]
    shapes: np.ndarray  # int64 [N, 2]
    out_offsets: np.ndarray  # int64 [N]: packed offsets of an output with the same shapes
    out_size: int  # total pixels of that packed output
    dense: tuple[int, int, int] | None  # (N, H, W) when the input was a dense array


def _writeable(a: np.ndarray, dtype) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=dtype)
    # read-only arrays (np.frombuffer, mmaps) would make numba compile a second specialisation
    return a if a.flags.writeable else a.copy()


def as_flat(batch: np.ndarray | Ragged) -> FlatBatch:
    """Check a dense ``uint8 [N, H, W]`` array or a :class:`Ragged` batch and return its flat view.

    Raises:
        FormatError: wrong type, dtype, rank, or ragged offsets/shapes that do not fit the buffer.
    """
    if isinstance(batch, Ragged):
        return _ragged(batch)
    if not isinstance(batch, np.ndarray):
        raise FormatError(f"expected a uint8 [N, H, W] numpy array or a Ragged batch, got {type(batch).__name__}")
    if batch.dtype != np.uint8 or batch.ndim != 3:
        raise FormatError(
            f"expected a uint8 [N, H, W] image batch, got {batch.dtype} with shape {batch.shape}; "
            "convert with np.asarray(x, np.uint8) and add a batch axis for a single image"
        )
    r = Ragged.from_dense(_writeable(batch, np.uint8))
    return FlatBatch(r.flat, r.offsets, r.shapes, r.offsets, r.flat.size, tuple(batch.shape))


def _ragged(batch: Ragged) -> FlatBatch:
    flat, offsets, shapes = (np.asarray(a) for a in (batch.flat, batch.offsets, batch.shapes))
    if flat.dtype != np.uint8 or flat.ndim != 1:
        raise FormatError(f"Ragged.flat must be uint8 [total], got {flat.dtype} with shape {flat.shape}")
    if offsets.ndim != 1 or shapes.shape != (len(offsets), 2):
        raise FormatError(f"Ragged offsets [N] and shapes [N, 2] disagree: {offsets.shape} and {shapes.shape}")
    if not (np.issubdtype(offsets.dtype, np.integer) and np.issubdtype(shapes.dtype, np.integer)):
        raise FormatError(f"Ragged offsets and shapes must be integers, got {offsets.dtype} and {shapes.dtype}")
    offsets, shapes = _writeable(offsets, np.int64), _writeable(shapes, np.int64)
    sizes = shapes[:, 0] * shapes[:, 1]
    if len(offsets) and (shapes.min() < 0 or offsets.min() < 0 or (offsets + sizes).max() > flat.size):
        raise FormatError(f"Ragged offsets/shapes point outside its {flat.size}-byte buffer or are negative")
    out_offsets = np.zeros(len(offsets), dtype=np.int64)
    if len(offsets):
        np.cumsum(sizes[:-1], out=out_offsets[1:])
    return FlatBatch(_writeable(flat, np.uint8), offsets, shapes, out_offsets, int(sizes.sum()), None)
