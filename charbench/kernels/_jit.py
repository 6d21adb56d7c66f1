"""The one numba decorator every kernel uses: cached on disk, releases the GIL."""

import functools

import numba

# cache=True writes compiled kernels next to their modules, so later processes only load them.
jit = functools.partial(numba.njit, cache=True, nogil=True)


def dynamic_schedule():
    """Context manager handing out prange iterations one at a time to whichever thread is free.

    Work items differ in cost (ragged images) and cores may be shared, so static equal splits would
    leave threads idle; results do not depend on the schedule.
    """
    return numba.parallel_chunksize(1)
