"""Imported by the worker processes' forkserver (``charbench.pool``): numba's compiler machinery loads there once,
so each forked worker starts with it ready instead of spending about half a second on it at its first kernel call.

Only a plain (not ``parallel``) function runs here, so the server has no numba threads when it forks.
"""

from charbench.kernels._jit import jit


@jit
def _plus_one(x: int) -> int:
    return x + 1


_plus_one(1)
