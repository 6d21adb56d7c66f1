"""All numba code of charbench: binarise, normalise (crop, area resize, centre), rasterise strokes, vary.

Public wrappers validate their inputs and allocate outputs; the ``@jit`` kernels behind them do not.
"""

# Bump whenever a kernel's output for the same input changes: prepare's plan fingerprint (and so --resume) and
# index.json record it.
KERNELS_VERSION = "1"

from charbench.kernels.options import parse_binarize
from charbench.kernels.ragged import Ragged

# The numba kernels load on first use, so that a process that never runs one (prepare's main process while its
# workers decode, the CLI's argument parsing) does not import numba.
# (modules are not named as their functions: importing a submodule sets the package attribute of its name)
_LAZY = {"binarize": "binarization", "local_thresholds": "binarization", "otsu_thresholds": "binarization",
         "normalize": "normalization", "rasterize_strokes": "rasterize", "vary": "variation"}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


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
