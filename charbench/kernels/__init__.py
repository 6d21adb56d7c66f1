"""All numba code of charbench: binarise, normalise (crop, area resize, centre), rasterise strokes, vary.

Public wrappers validate their inputs and allocate outputs; the ``@jit`` kernels behind them do not.
"""

# Bump whenever a kernel's output for the same input changes: prepare's plan fingerprint (and so --resume) and
# index.json record it.
KERNELS_VERSION = "1"

from charbench.kernels.binarize import binarize, local_thresholds, otsu_thresholds
from charbench.kernels.normalize import normalize
from charbench.kernels.options import parse_binarize
from charbench.kernels.ragged import Ragged
from charbench.kernels.rasterize import rasterize_strokes
from charbench.kernels.vary import vary

__all__ = [
    "KERNELS_VERSION",
    "Ragged",
    "binarize",
    "local_thresholds",
    "normalize",
    "otsu_thresholds",
    "parse_binarize",
    "rasterize_strokes",
    "vary",
]
