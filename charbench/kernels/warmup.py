"""Compile (or load from numba's on-disk cache) every kernel once, before worker processes need them."""

from __future__ import annotations

import time

import numpy as np

from charbench.kernels.binarize import binarize
from charbench.kernels.normalize import normalize
from charbench.kernels.ragged import Ragged
from charbench.kernels.rasterize import rasterize_strokes
from charbench.kernels.vary import vary


def warm_up() -> float:
    """Run each batch kernel on a tiny input; returns the seconds it took.

    The first call in a fresh install compiles (tens of seconds) and fills the cache next to the
    modules; later processes only load it. A parent process calling this before it starts workers
    keeps the workers from all compiling the same kernels at once.
    """
    start = time.perf_counter()
    dense = np.zeros((1, 4, 4), np.uint8)
    ragged = Ragged.from_list([np.zeros((3, 5), np.uint8)])
    binarize(dense)
    normalize(ragged, size=4, margin=0)
    rasterize_strokes(np.zeros((1, 2), np.float32), np.array([0, 1]), np.array([0, 1]), size=4, margin=0, pen_width=0.1)
    vary(dense, np.zeros(1, np.int64))
    return time.perf_counter() - start
