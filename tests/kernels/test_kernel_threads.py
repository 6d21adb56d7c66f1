"""Results do not depend on the number of threads numba uses."""

from __future__ import annotations

import subprocess
import sys

import numba
import numpy as np
import pytest

from charbench.kernels import Ragged, binarize, normalize, otsu_thresholds, rasterize_strokes, vary


@pytest.fixture
def one_thread():
    before = numba.get_num_threads()
    yield
    numba.set_num_threads(before)


def run_all() -> list[np.ndarray]:
    rng = np.random.default_rng(50)
    dense = rng.integers(0, 256, (300, 20, 20), dtype=np.uint8)
    imgs = [rng.integers(0, 256, tuple(rng.integers(1, 70, 2)), dtype=np.uint8) for _ in range(300)]
    ragged = Ragged.from_list(imgs)
    pts = (rng.random((900, 2)) * 40).astype(np.float32)
    stroke_offsets = np.arange(0, 901, 3, dtype=np.int64)
    sample_offsets = np.arange(0, 301, 2, dtype=np.int64)
    small = normalize(ragged, size=16)
    return [
        binarize(dense, "otsu"),
        binarize(dense, "sauvola:7,0.3"),
        binarize(ragged, "niblack").flat,
        otsu_thresholds(ragged),
        small,
        normalize(ragged, size=24, binarize="sauvola", center="box"),
        rasterize_strokes(pts, stroke_offsets, sample_offsets, size=20),
        vary(small, np.arange(len(small)), elastic=0.05),
    ]


def test_results_independent_of_thread_count(one_thread):
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has a single thread on this machine")
    numba.set_num_threads(2)
    many = run_all()
    numba.set_num_threads(1)
    single = run_all()
    for a, b in zip(many, single):
        np.testing.assert_array_equal(a, b)


def test_the_forkserver_preload_readies_numba_without_starting_its_threads():
    """The worker processes fork from a server that imported charbench.kernels.preload: numba threads running
    there would not survive the fork (GNU OpenMP aborts, workqueue deadlocks)."""
    code = (
        "import sys, charbench.kernels.preload, numba.np.ufunc.parallel as p; "
        "print(p._is_initialized, 'numba.np.arraymath' in sys.modules)"  # numba's costly first-compile imports
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True"]


def test_the_preload_skips_numbas_blas_probe_and_leaves_scipy_importable():
    """numba's first compile imports scipy.linalg to probe for BLAS (0.3 s of the server's start); the preload hides
    it for that moment only, so scipy.linalg still imports afterwards and numba's np.dot still compiles."""
    pytest.importorskip("scipy")
    code = (
        "import sys, numpy as np, charbench.kernels.preload, numba; "
        "print('scipy.linalg' in sys.modules); import scipy.linalg.cython_blas; "
        "print(numba.njit(lambda a, b: np.dot(a, b))(np.ones(3), np.ones(3)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "3.0"]
