"""Rasterise pen strokes (UNIPEN, Omniglot) into anti-aliased white-ink ``uint8 [N, S, S]`` images."""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from charbench.errors import FormatError, OptionError
from charbench.kernels._jit import dynamic_schedule, jit
from charbench.kernels.options import C_BOX, C_NONE, center_code, check_size


@jit
def _sample_box(points, stroke_offsets, s0, s1):
    """``(xmin, xmax, ymin, ymax, count)`` of the points of strokes ``s0:s1``."""
    xmin = ymin = math.inf
    xmax = ymax = -math.inf
    count = 0
    for s in range(s0, s1):
        for p in range(stroke_offsets[s], stroke_offsets[s + 1]):
            x, y = points[p, 0], points[p, 1]
            xmin, xmax = min(xmin, x), max(xmax, x)
            ymin, ymax = min(ymin, y), max(ymax, y)
            count += 1
    return xmin, xmax, ymin, ymax, count


@jit
def _ink_centre(points, stroke_offsets, s0, s1, dot_weight):
    """Centre of mass of the ink in source units: segments weigh their length, lone points ``dot_weight``."""
    m = cx = cy = 0.0
    for s in range(s0, s1):
        a, b = stroke_offsets[s], stroke_offsets[s + 1]
        if b - a == 1:
            m += dot_weight
            cx += dot_weight * points[a, 0]
            cy += dot_weight * points[a, 1]
        for p in range(a, b - 1):
            x0, y0, x1, y1 = points[p, 0], points[p, 1], points[p + 1, 0], points[p + 1, 1]
            length = math.sqrt((x1 - x0) * (x1 - x0) + (y1 - y0) * (y1 - y0))
            m += length
            cx += length * 0.5 * (x0 + x1)
            cy += length * 0.5 * (y0 + y1)
    return m, cx, cy


@jit
def _draw_segment(x0, y0, x1, y1, radius, dst):
    """Max-blend a round-capped segment of half-width ``radius`` (pixels, frame coordinates) into ``dst``.

    Pixel (i, j) has its centre at (j + 0.5, i + 0.5); its coverage is approximated by
    ``clip(radius + 0.5 - distance, 0, 1)``, which anti-aliases the edge over one pixel.
    """
    size = dst.shape[0]
    reach = radius + 1.0
    i_lo = max(0, math.floor(min(y0, y1) - reach))
    i_hi = min(size, math.ceil(max(y0, y1) + reach) + 1)
    j_lo = max(0, math.floor(min(x0, x1) - reach))
    j_hi = min(size, math.ceil(max(x0, x1) + reach) + 1)
    dx, dy = x1 - x0, y1 - y0
    len2 = dx * dx + dy * dy
    for i in range(i_lo, i_hi):
        py = i + 0.5
        for j in range(j_lo, j_hi):
            px = j + 0.5
            t = 0.0 if len2 == 0.0 else min(1.0, max(0.0, ((px - x0) * dx + (py - y0) * dy) / len2))
            ex, ey = px - (x0 + t * dx), py - (y0 + t * dy)
            d = math.sqrt(ex * ex + ey * ey)  # sqrt is correctly rounded everywhere, unlike libm's hypot
            cover = min(1.0, radius + 0.5 - d)
            if cover > 0.0:
                v = math.floor(cover * 255.0 + 0.5)
                dst[i, j] = max(dst[i, j], v)


@jit
def _frame_offset(size, lo_px, hi_px, centre_px):
    """Shift putting ``centre_px`` at the frame centre, pulled back so ``[lo_px, hi_px]`` stays inside."""
    o = size / 2.0 - centre_px
    if hi_px - lo_px <= size:
        o = min(max(o, -lo_px), size - hi_px)
    return o


@jit
def rasterize_sample(points, stroke_offsets, s0, s1, size, radius, margin, center, dst):
    """Draw strokes ``s0:s1`` fitted into ``dst`` (uint8 [size, size]); see :func:`rasterize_strokes`."""
    dst[:, :] = 0
    xmin, xmax, ymin, ymax, count = _sample_box(points, stroke_offsets, s0, s1)
    if count == 0:
        return dst
    reach = radius + 0.5  # the anti-aliased edge lights pixels up to half a pixel past the pen
    room = size - 2.0 * margin - 2.0 * reach
    extent = max(xmax - xmin, ymax - ymin)
    scale = room / extent if extent > 0.0 else 1.0
    if center == C_BOX or center == C_NONE:
        cx, cy = 0.5 * (xmin + xmax), 0.5 * (ymin + ymax)
    else:
        m, sx, sy = _ink_centre(points, stroke_offsets, s0, s1, math.pi * radius / (2.0 * scale))
        cx, cy = (sx / m, sy / m) if m > 0.0 else (0.5 * (xmin + xmax), 0.5 * (ymin + ymax))
    # frame coordinates of the box relative to the chosen centre, pen included
    ox = _frame_offset(size, (xmin - cx) * scale - reach, (xmax - cx) * scale + reach, 0.0)
    oy = _frame_offset(size, (ymin - cy) * scale - reach, (ymax - cy) * scale + reach, 0.0)
    for s in range(s0, s1):
        a, b = stroke_offsets[s], stroke_offsets[s + 1]
        for p in range(a, max(a + 1, b - 1) if b > a else a):
            q = p if b - a == 1 else p + 1  # a one-point stroke is a zero-length segment: a dot
            x0, y0 = (points[p, 0] - cx) * scale + ox, (points[p, 1] - cy) * scale + oy
            x1, y1 = (points[q, 0] - cx) * scale + ox, (points[q, 1] - cy) * scale + oy
            _draw_segment(x0, y0, x1, y1, radius, dst)
    return dst


@jit(parallel=True)
def rasterize_batch(points, stroke_offsets, sample_offsets, size, radius, margin, center, out):
    """Rasterise every sample ``n`` (strokes ``sample_offsets[n]:sample_offsets[n+1]``) into ``out[n]``."""
    for n in prange(sample_offsets.shape[0] - 1):
        rasterize_sample(
            points, stroke_offsets, sample_offsets[n], sample_offsets[n + 1], size, radius, margin, center, out[n]
        )
    return out


def _check_points(points: np.ndarray) -> np.ndarray:
    pts = np.ascontiguousarray(points)
    if pts.ndim != 2 or pts.shape[1] != 2 or not np.issubdtype(pts.dtype, np.floating):
        raise FormatError(f"points must be float32 [P, 2] (x, y), got {pts.dtype} {pts.shape}")
    if not np.isfinite(pts).all():
        raise FormatError("points contain NaN or infinity; drop them before rasterising")
    return pts.astype(np.float32)


def _check_offsets(name: str, offsets: np.ndarray, end: int) -> np.ndarray:
    offsets = np.ascontiguousarray(offsets)
    if offsets.ndim != 1 or len(offsets) < 1 or not np.issubdtype(offsets.dtype, np.integer):
        raise FormatError(f"{name} must be a 1-D integer array with a leading 0, got {offsets.dtype} {offsets.shape}")
    offsets = offsets.astype(np.int64)
    if offsets[0] != 0 or offsets[-1] != end or (np.diff(offsets) < 0).any():
        raise FormatError(f"{name} must rise from 0 to {end} (one more entry than items), got {offsets[:3]}...")
    return offsets


def rasterize_strokes(
    points: np.ndarray,
    stroke_offsets: np.ndarray,
    sample_offsets: np.ndarray,
    *,
    size: int,
    pen_width: float = 0.06,
    margin: int = 2,
    center: str = "mass",
) -> np.ndarray:
    """Draw pen trajectories as anti-aliased white ink on black, one ``size x size`` image per sample.

    Args:
        points: float32 [P, 2], (x, y) with y growing downward (flip y-up formats such as UNIPEN first).
        stroke_offsets: int64 [K + 1]; stroke k (pen down to pen up) is ``points[so[k]:so[k+1]]``.
        sample_offsets: int64 [N + 1]; sample n is strokes ``sample_offsets[n]:sample_offsets[n+1]``.
        size: output side S.
        pen_width: stroke width as a fraction of S.
        margin: blank pixels kept around the fitted character (the pen and its anti-aliased edge included).
        center: ``mass`` (ink centre of mass at the centre, shifted back if that would cut ink), ``box``.

    Returns:
        uint8 [N, S, S]. A one-point stroke is a dot; a sample without points is all zero.

    Raises:
        FormatError: arrays of the wrong shape, dtype or offsets out of order.
        OptionError: size, pen width, margin or center out of range.
    """
    pts = _check_points(points)
    so = _check_offsets("stroke_offsets", stroke_offsets, len(pts))
    sa = _check_offsets("sample_offsets", sample_offsets, len(so) - 1)
    cen = center_code(center)
    if cen == C_NONE:
        raise OptionError("rasterize_strokes needs center='mass' or 'box' (strokes have no native frame)")
    size, margin = check_size(size, margin)
    radius = 0.5 * float(pen_width) * size
    if not (pen_width > 0 and size - 2 * margin - 2 * radius - 1 > 0):
        raise OptionError(f"pen_width {pen_width} with margin {margin} leaves no room in a {size}x{size} image")
    out = np.empty((len(sa) - 1, size, size), dtype=np.uint8)
    with dynamic_schedule():
        return rasterize_batch(pts, so, sa, size, radius, margin, cen, out)
