"""Imported by the worker processes' forkserver (``charbench.pool``): numba's compiler machinery loads there once,
so each forked worker starts with it ready instead of spending about half a second on it at its first kernel call.

Only a plain (not ``parallel``) function runs here, so the server has no numba threads when it forks.
"""

import sys
from contextlib import contextmanager

_BLAS_PROBE = "scipy.linalg.cython_blas"


@contextmanager
def _no_blas_probe():
    """``scipy.linalg`` hidden while numba readies its compiler.

    With scipy installed, numba's first compile probes it for BLAS (``numba.np.arraymath``), which imports
    ``scipy.linalg`` and with it ``numpy.f2py``: about 0.3 s of the server's start. No charbench kernel calls BLAS
    (``np.dot``, ``np.linalg``, ``np.convolve``); without the probe numba's ``np.convolve`` / ``np.correlate`` of
    floats take numba's own loop, and ``np.dot`` / ``np.linalg`` import scipy when first compiled, which works
    again once this returns. Used only in the server charbench starts, never in a user's process.
    """
    if _BLAS_PROBE in sys.modules:
        yield
        return
    sys.modules[_BLAS_PROBE] = None  # its import fails at once: numba takes "no BLAS"
    try:
        yield
    finally:
        if sys.modules.get(_BLAS_PROBE, ...) is None:
            del sys.modules[_BLAS_PROBE]


with _no_blas_probe():
    from charbench.kernels._jit import jit

    @jit
    def _plus_one(x: int) -> int:
        return x + 1

    _plus_one(1)
