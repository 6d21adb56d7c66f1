"""rasterize_strokes: line placement, anti-aliasing, dots, pen up/down, fitting, centring, py_func parity."""

from __future__ import annotations

import numpy as np
import pytest

from charbench.errors import FormatError, OptionError
from charbench.kernels import rasterize_strokes
from charbench.kernels.options import C_MASS
from charbench.kernels.rasterize import _draw_segment, rasterize_batch, rasterize_sample


def strokes(*samples: list[list[tuple[float, float]]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pack samples (lists of strokes, each a list of (x, y)) into points and offsets."""
    points, stroke_offsets, sample_offsets = [], [0], [0]
    for sample in samples:
        for stroke in sample:
            points.extend(stroke)
            stroke_offsets.append(len(points))
        sample_offsets.append(len(stroke_offsets) - 1)
    pts = np.array(points, np.float32).reshape(-1, 2)
    return pts, np.array(stroke_offsets, np.int64), np.array(sample_offsets, np.int64)


def test_horizontal_line_lights_the_middle_row():
    out = rasterize_strokes(*strokes([[(0, 5), (10, 5)]]), size=29, pen_width=0.06, margin=2)[0]
    rows = out.max(axis=1)
    assert rows[14] == 255 and rows[13] == rows[15] and 0 < rows[13] < 255
    assert not rows[:13].any() and not rows[16:].any()
    lit = np.nonzero(out[14])[0]
    radius = 0.03 * 29
    assert lit.min() >= 2 and lit.max() <= 26 and len(lit) >= 29 - 4 - 2 * radius - 1
    even = rasterize_strokes(*strokes([[(0, 5), (10, 5)]]), size=28)[0].max(axis=1)
    assert even[13] == even[14] > 0 and not even[:13].any() and not even[15:].any()


def test_antialiasing_gives_intermediate_values():
    out = rasterize_strokes(*strokes([[(0, 0), (7, 3)]]), size=32, pen_width=0.08)[0]
    values = np.unique(out)
    assert values[0] == 0 and values[-1] == 255
    assert ((out > 0) & (out < 255)).sum() > 10


def test_single_point_draws_a_dot_in_the_middle():
    out = rasterize_strokes(*strokes([[(3.0, 4.0)]]), size=29, pen_width=0.1)[0]
    ys, xs = np.nonzero(out)
    assert out[14, 14] == 255
    assert ys.min() + ys.max() == 28 and xs.min() + xs.max() == 28
    np.testing.assert_array_equal(out, out[::-1, ::-1])
    assert len(ys) < 30


def test_empty_samples_are_zero():
    pts, so, sa = strokes([], [[]], [[(0, 0), (1, 1)]], [[], []])
    out = rasterize_strokes(pts, so, sa, size=16)
    assert out.shape == (4, 16, 16)
    assert not out[0].any() and not out[1].any() and out[2].any() and not out[3].any()
    none = rasterize_strokes(np.zeros((0, 2), np.float32), np.zeros(1, np.int64), np.zeros(1, np.int64), size=8)
    assert none.shape == (0, 8, 8)


def test_pen_up_leaves_a_gap_between_strokes():
    out = rasterize_strokes(*strokes([[(0, 0), (10, 0)], [(0, 10), (10, 10)]]), size=29, pen_width=0.05)[0]
    rows = out.max(axis=1)
    assert rows[:6].max() > 200 and rows[23:].max() > 200 and not rows[8:21].any()


def test_longer_side_fits_and_y_grows_downward():
    sample = strokes([[(0, 0), (0, 20)], [(5, 20)]])
    out = rasterize_strokes(*sample, size=28, pen_width=0.06, margin=2, center="box")[0]
    ys, xs = np.nonzero(out)
    radius = 0.03 * 28
    assert 2 <= ys.min() and ys.max() <= 25 and ys.max() - ys.min() + 1 >= 24 - 2 * radius - 1
    dot_col = xs.max()
    assert np.nonzero(out[:, dot_col])[0].min() > 20  # the point at y=20 is at the bottom


def test_center_mass_and_box():
    sample = [[(0, 0), (0, 20)], [(0, 20), (20, 20)], [(0, 18), (20, 18)]]  # an L with a heavy foot
    mass = rasterize_strokes(*strokes(sample), size=40, center="mass", margin=8)[0].astype(float)
    box = rasterize_strokes(*strokes(sample), size=40, center="box", margin=8)[0]
    cy = (np.arange(40)[:, None] * mass).sum() / mass.sum() + 0.5
    cx = (np.arange(40)[None, :] * mass).sum() / mass.sum() + 0.5
    assert abs(cy - 20) < 1.0 and abs(cx - 20) < 1.0
    ys, xs = np.nonzero(box)
    assert abs((ys.min() + ys.max() + 1) / 2 - 20) <= 1 and abs((xs.min() + xs.max() + 1) / 2 - 20) <= 1
    assert not np.array_equal(mass, box)


def test_mass_centring_keeps_all_ink_in_the_frame():
    sample = [[(0, 0), (30, 0)], [(0, 0), (0, 1)], [(0, 0), (30, 0.5)], [(0, 0), (1, 30)]]
    mass = rasterize_strokes(*strokes(sample), size=28, margin=0, center="mass")[0]
    box = rasterize_strokes(*strokes(sample), size=28, margin=0, center="box")[0]
    assert abs(int(mass.sum()) - int(box.sum())) < 0.02 * int(box.sum())


def test_batch_kernel_parity_with_py_func():
    rng = np.random.default_rng(20)
    samples = [[[tuple(p) for p in rng.random((rng.integers(1, 5), 2)) * 50] for _ in range(3)] for _ in range(4)]
    edge = [[(3, 3), (3, 3)]], [[(0, 0), (0, 40)]], [[(0, 0), (90, 1)]], [[(5, 5)], [(5, 5), (6, 6)]]
    pts, so, sa = strokes(*samples, [[(1, 1)]], [], *edge)
    args = (pts, so, sa, 12, 0.6, 1, C_MASS)
    n = len(sa) - 1
    out = rasterize_batch(*args, np.empty((n, 12, 12), np.uint8))
    np.testing.assert_array_equal(out, rasterize_batch.py_func(*args, np.empty((n, 12, 12), np.uint8)))
    for i in range(n):
        ref = rasterize_sample.py_func(pts, so, sa[i], sa[i + 1], 12, 0.6, 1, C_MASS, np.empty((12, 12), np.uint8))
        np.testing.assert_array_equal(out[i], ref)
    for seg in ((2.0, 3.0, 9.5, 4.25), (5.0, 5.0, 5.0, 5.0), (-3.0, 1.0, 20.0, 11.0)):
        a, b = np.zeros((12, 12), np.uint8), np.zeros((12, 12), np.uint8)
        _draw_segment(*seg, 0.8, a)
        _draw_segment.py_func(*seg, 0.8, b)
        np.testing.assert_array_equal(a, b)
        assert a.any()


def test_errors():
    pts, so, sa = strokes([[(0, 0), (1, 1)]])
    with pytest.raises(FormatError):
        rasterize_strokes(pts[:, :1], so, sa, size=8)
    with pytest.raises(FormatError):
        rasterize_strokes(pts, np.array([0, 3]), sa, size=8)
    with pytest.raises(FormatError):
        rasterize_strokes(pts, so, np.array([0, 2]), size=8)
    with pytest.raises(FormatError):
        rasterize_strokes(np.full((2, 2), np.nan, np.float32), so, sa, size=8)
    with pytest.raises(OptionError):
        rasterize_strokes(pts, so, sa, size=8, pen_width=0.9)
    with pytest.raises(OptionError):
        rasterize_strokes(pts, so, sa, size=8, center="none")
    with pytest.raises(OptionError):
        rasterize_strokes(pts, so, sa, size=0)
