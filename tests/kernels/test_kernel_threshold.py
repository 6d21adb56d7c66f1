"""Per-image threshold kernels and the binarise batch kernels against their Python forms (py_func)."""

from __future__ import annotations

import numpy as np
import pytest

from charbench.kernels import Ragged
from charbench.kernels.binarization import binarize_batch, binarize_group, make_scratch
from charbench.kernels.options import INV_AUTO, INV_NO, INV_YES, binarize_codes
from charbench.kernels.threshold import (
    LANES,
    frame_vote,
    histogram,
    local_binarize,
    median_is_bright,
    otsu_lanes,
    reflect_index,
    reflect_integrals,
)


def small_images() -> list[np.ndarray]:
    rng = np.random.default_rng(40)
    imgs = [rng.integers(0, 256, tuple(rng.integers(1, 14, 2)), dtype=np.uint8) for _ in range(12)]
    imgs += [np.zeros((1, 1), np.uint8), np.full((1, 1), 255, np.uint8), np.zeros((4, 6), np.uint8)]
    imgs += [np.full((5, 3), 255, np.uint8), rng.integers(0, 256, (1, 17), dtype=np.uint8)]
    imgs += [rng.integers(0, 256, (16, 1), dtype=np.uint8), (rng.random((7, 7)) > 0.7).astype(np.uint8) * 255]
    return imgs


def test_histogram_and_polarity_parity():
    for img in small_images():
        flat = img.reshape(-1).copy()
        h1, h2 = np.empty(256, np.int64), np.empty(256, np.int64)
        histogram(flat, np.empty((4, 256), np.int32), h1)
        histogram.py_func(flat, np.empty((4, 256), np.int32), h2)
        np.testing.assert_array_equal(h1, np.bincount(flat, minlength=256))
        np.testing.assert_array_equal(h1, h2)
        assert frame_vote(flat, *img.shape) == frame_vote.py_func(flat, *img.shape)
        assert median_is_bright(h1, flat.size) == median_is_bright.py_func(h1, flat.size)
        assert median_is_bright(h1, flat.size) == (np.sort(flat)[(flat.size - 1) // 2] > 127)


def test_otsu_lanes_parity():
    rng = np.random.default_rng(41)
    hist_t = rng.integers(0, 30, (256, LANES)).astype(np.float64)
    hist_t[:, 1] = 0
    hist_t[:, 2] = 0
    hist_t[[0, 255], 2] = 5  # two levels: every threshold between them ties
    hist_t[:, 3] = 0
    hist_t[77, 3] = 9  # one level
    hist_t[:, 4] = 0  # an unused lane
    outs = [np.empty(LANES, np.int64) for _ in range(2)]
    otsu_lanes(hist_t, np.empty((6, LANES)), outs[0])
    with np.errstate(all="ignore"):
        otsu_lanes.py_func(hist_t, np.empty((6, LANES)), outs[1])
    np.testing.assert_array_equal(*outs)
    assert outs[0][4] == 0 and outs[0][3] == 0


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_reflect_index_matches_numpy_pad(n):
    ref = np.pad(np.arange(n), 30, mode="reflect")
    ours = [reflect_index(p, n) for p in range(-30, n + 30)]
    assert ours == ref.tolist()
    assert ours == [reflect_index.py_func(p, n) for p in range(-30, n + 30)]


@pytest.mark.parametrize("flip", [False, True])
def test_local_kernels_parity(flip):
    for img in small_images()[:8]:
        h, w = img.shape
        flat = img.reshape(-1).copy()
        for window, sauvola in ((3, True), (25, False)):
            r = window // 2
            res = []
            for fn in ("compiled", "python"):
                s1, s2 = np.empty((h + window, w + window)), np.empty((h + window, w + window))
                xmap, dst = np.empty(w + 2 * r, np.int64), np.empty(h * w, np.uint8)
                integ = reflect_integrals if fn == "compiled" else reflect_integrals.py_func
                local = local_binarize if fn == "compiled" else local_binarize.py_func
                integ(flat, h, w, flip, r, xmap, s1, s2)
                local(flat, h, w, flip, window, 0.2, 127.5, sauvola, s1, s2, dst)
                res.append((s1, s2, dst))
            view = 255.0 - img if flip else img.astype(float)
            padded = np.pad(view, r, mode="reflect")
            np.testing.assert_array_equal(res[0][0][1:, 1:], padded.cumsum(0).cumsum(1))
            for a, b in zip(*res):
                np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("method", ["otsu", "sauvola:5,0.3", "niblack:3,0.1", "fixed:90", "none"])
@pytest.mark.parametrize("invert", [INV_AUTO, INV_YES, INV_NO])
def test_batch_kernels_parity(method, invert):
    r = Ragged.from_list(small_images())
    code, t, window, k, rr = binarize_codes(method)
    mh, mw = int(r.shapes[:, 0].max()), int(r.shapes[:, 1].max())
    args = (r.flat, r.offsets, r.shapes, code, t, window, k, rr, invert, r.offsets)
    thresholds = [np.empty(len(r), np.int64) for _ in range(2)]
    out = binarize_batch(*args, np.empty_like(r.flat), thresholds[0])
    with np.errstate(all="ignore"):
        ref = binarize_batch.py_func(*args, np.empty_like(r.flat), thresholds[1])
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(*thresholds)
    assert len(make_scratch(code, window, mh, mw)) == 8


@pytest.mark.parametrize("method", ["otsu", "sauvola:7,0.2", "fixed:10", "none"])
def test_group_kernel_parity(method):
    r = Ragged.from_list(small_images()[:LANES])
    code, t, window, k, rr = binarize_codes(method)
    outs = []
    for fn in (binarize_group, binarize_group.py_func):
        scratch = make_scratch(code, window, 16, 17)
        out = np.empty_like(r.flat)
        with np.errstate(all="ignore"):
            fn(r.flat, r.offsets, r.shapes, 0, len(r), code, t, window, k, rr, INV_AUTO, scratch, out, r.offsets)
        outs.append(out)
    np.testing.assert_array_equal(*outs)
