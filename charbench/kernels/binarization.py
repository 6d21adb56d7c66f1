"""Binarisation with per-image ink polarity: every result is white ink (255) on black (0).

Methods (see :func:`charbench.kernels.options.parse_binarize`): ``none`` keeps grey levels and only
fixes polarity; ``otsu`` and ``fixed:T`` threshold the white-ink image as ``cv2.THRESH_BINARY`` does
(ink where value > T); ``sauvola`` and ``niblack`` threshold the dark-ink paper view locally, as
scikit-image does, which suppresses faint bleed-through from the back of a page.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from charbench.errors import FormatError, OptionError
from charbench.kernels._jit import dynamic_schedule, jit
from charbench.kernels._layout import FlatBatch, as_flat
from charbench.kernels.options import (
    INV_AUTO,
    INV_YES,
    M_FIXED,
    M_NIBLACK,
    M_NONE,
    M_OTSU,
    M_SAUVOLA,
    binarize_codes,
    invert_code,
)
from charbench.kernels.ragged import Ragged
from charbench.kernels.threshold import (
    LANES,
    frame_vote,
    histogram,
    local_binarize,
    local_threshold_at,
    median_is_bright,
    otsu_lanes,
    reflect_integrals,
)

# Groups of LANES images per parallel work item: enough work to amortise scratch allocation, small
# enough that a few thousand images still spread over every thread.
GROUPS_PER_ITEM = 16


@jit
def make_scratch(method, window, max_h, max_w):
    """Per-thread scratch of :func:`binarize_group`; integral images only for the local methods."""
    ih, iw = (max_h + window, max_w + window) if method == M_SAUVOLA or method == M_NIBLACK else (1, 1)
    return (
        np.empty((4, 256), np.int32),  # sub-histograms
        np.empty(256, np.int64),  # histogram of one image
        np.empty((256, LANES), np.float64),  # histograms of a group, one per column (exact counts)
        np.empty((6, LANES), np.float64),  # Otsu lane state
        np.empty((3, LANES), np.int64),  # per image of the group: inverted?, threshold, single grey level?
        np.empty(iw, np.int64),  # reflected column index
        np.empty((ih, iw), np.float64),  # integral image
        np.empty((ih, iw), np.float64),  # integral image of squares
    )


@jit
def span_shape(shapes, lo, hi):
    """Largest height and width among images ``lo:hi``: the scratch one work item needs."""
    mh = mw = 0
    for i in range(lo, hi):
        mh = max(mh, shapes[i, 0])
        mw = max(mw, shapes[i, 1])
    return mh, mw


@jit
def _polarity(src, h, w, method, invert, hist4, hist, hist_t, flags, g):
    """Polarity of one image (and its histogram, when needed) into lane ``g`` of the group scratch.

    ``auto``: the frame decides when it is clear; otherwise the median does, which needs the histogram.
    """
    n = h * w
    vote = frame_vote(src, h, w) if invert == INV_AUTO and n > 0 else -1
    if n > 0 and (method == M_OTSU or vote == 0):
        histogram(src, hist4, hist)
    inv = invert == INV_YES or (invert == INV_AUTO and (vote == 1 or (vote == 0 and median_is_bright(hist, n))))
    flags[0, g] = 1 if inv else 0
    flags[2, g] = 0
    if method != M_OTSU:
        return
    for v in range(256):
        # Otsu runs on the white-ink image, whose histogram is the reversed one when inverting
        hist_t[v, g] = 0.0 if n == 0 else float(hist[255 - v] if inv else hist[v])
        if hist_t[v, g] == n:
            flags[2, g] = 1


@jit
def _apply(src, h, w, method, window, k, r, inv, t, flat_image, xmap, s1, s2, dst):
    """Write the white-ink binarisation of one image, polarity and global threshold ``t`` decided."""
    n = h * w
    if method == M_OTSU and flat_image:
        # one grey level has no two classes to separate: OpenCV's threshold 0 would make it all ink
        dst[:] = 0
    elif method == M_NONE:
        for i in range(n):
            dst[i] = 255 - src[i] if inv else src[i]
    elif method == M_OTSU or method == M_FIXED:
        if inv:
            lim = 255 - t  # on the white-ink image x = 255 - src, x > t is the same test as src < 255 - t
            for i in range(n):
                dst[i] = 255 if src[i] < lim else 0
        else:
            for i in range(n):
                dst[i] = 255 if src[i] > t else 0
    elif n > 0:
        reflect_integrals(src, h, w, not inv, window // 2, xmap, s1, s2)
        local_binarize(src, h, w, not inv, window, k, r, method == M_SAUVOLA, s1, s2, dst)


@jit
def binarize_group(flat, offsets, shapes, lo, hi, method, fixed_t, window, k, r, invert, scratch, dst, dst_offsets):
    """Binarise images ``lo:hi`` (at most ``LANES``) into ``dst`` at ``dst_offsets[i - lo]``."""
    # unpacked once per group: each tuple access costs reference-count updates
    hist4, hist, hist_t, lanes, flags, xmap, s1, s2 = scratch
    for g in range(LANES):
        flags[1, g] = fixed_t
    for i in range(lo, hi):
        h, w = shapes[i, 0], shapes[i, 1]
        _polarity(flat[offsets[i] : offsets[i] + h * w], h, w, method, invert, hist4, hist, hist_t, flags, i - lo)
    for i in range(hi - lo, LANES):
        hist_t[:, i] = 0.0
    if method == M_OTSU:
        otsu_lanes(hist_t, lanes, flags[1])
    for i in range(lo, hi):
        h, w = shapes[i, 0], shapes[i, 1]
        src = flat[offsets[i] : offsets[i] + h * w]
        out = dst[dst_offsets[i - lo] : dst_offsets[i - lo] + h * w]
        g = i - lo
        inv, t, flat_image = flags[0, g] == 1, flags[1, g], flags[2, g] == 1
        _apply(src, h, w, method, window, k, r, inv, t, flat_image, xmap, s1, s2, out)


@jit(parallel=True)
def binarize_batch(flat, offsets, shapes, method, fixed_t, window, k, r, invert, out_offsets, out, thresholds):
    """Binarise every image of a flat batch into ``out`` (packed at ``out_offsets``); returns ``out``.

    ``thresholds`` (int64 [N]) gets each image's global threshold (Otsu's, on the white-ink image, or
    the fixed one), or -1 for the methods without one.
    """
    count = offsets.shape[0]
    per_item = GROUPS_PER_ITEM * LANES
    for c in prange((count + per_item - 1) // per_item):
        end = min(count, (c + 1) * per_item)
        max_h, max_w = span_shape(shapes, c * per_item, end)
        scratch = make_scratch(method, window, max_h, max_w)
        flags = scratch[4]
        for lo in range(c * per_item, end, LANES):
            hi = min(count, lo + LANES)
            binarize_group(
                flat, offsets, shapes, lo, hi, method, fixed_t, window, k, r, invert, scratch, out, out_offsets[lo:hi]
            )
            for i in range(lo, hi):
                thresholds[i] = flags[1, i - lo] if method == M_OTSU or method == M_FIXED else -1
    return out


@jit
def threshold_surface(src, h, w, flip, window, k, r, sauvola, out):
    """The local threshold at every pixel of one flat image, as float64 [h, w] (paper view ``255 - src`` if flip)."""
    radius = window // 2
    xmap = np.empty(w + 2 * radius, np.int64)
    s1 = np.empty((h + window, w + window), np.float64)
    s2 = np.empty((h + window, w + window), np.float64)
    reflect_integrals(src, h, w, flip, radius, xmap, s1, s2)
    inv_area = 1.0 / (window * window)
    for i in range(h):
        for j in range(w):
            out[i, j] = local_threshold_at(s1, s2, i, j, window, inv_area, k, 1.0 / r, sauvola)
    return out


def run_binarize(fb: FlatBatch, method: str, invert: str) -> tuple[np.ndarray, np.ndarray]:
    """Binarise a validated flat batch: the packed flat output (uint8 [fb.out_size]) and the thresholds."""
    code, fixed_t, window, k, r = binarize_codes(method)
    inv = invert_code(invert)
    out = np.empty(fb.out_size, dtype=np.uint8)
    thresholds = np.empty(len(fb.offsets), dtype=np.int64)
    args = (fb.flat, fb.offsets, fb.shapes, code, fixed_t, window, k, r, inv, fb.out_offsets)
    with dynamic_schedule():
        binarize_batch(*args, out, thresholds)
    return out, thresholds


def binarize(batch: np.ndarray | Ragged, method: str = "otsu", invert: str = "auto") -> np.ndarray | Ragged:
    """Binarise each image and fix its polarity so that ink is 255 on a 0 background.

    Args:
        batch: dense ``uint8 [N, H, W]`` or a :class:`Ragged` batch of variable-size images.
        method: see :func:`charbench.kernels.options.parse_binarize`. ``none`` keeps grey levels.
        invert: ``auto`` (per image: a bright background means dark ink, which is inverted), ``yes`` or ``no``.

    Returns:
        The same kind as ``batch`` (dense in, dense out; Ragged in, packed Ragged out), values 0/255
        unless ``method`` is ``none``.

    Raises:
        OptionError: bad ``method`` or ``invert``.
        FormatError: ``batch`` is not a uint8 image batch.
    """
    fb = as_flat(batch)
    out, _ = run_binarize(fb, method, invert)
    if fb.dense is not None:
        return out.reshape(fb.dense)
    return Ragged(out, fb.out_offsets.copy(), fb.shapes.copy())


def otsu_thresholds(batch: np.ndarray | Ragged, invert: str = "no") -> np.ndarray:
    """Per-image Otsu thresholds (int64 [N]) equal to ``cv2.threshold(img, 0, 255, THRESH_OTSU)``'s.

    With ``invert="yes"`` they are the thresholds of ``255 - img`` (what ``binarize`` applies to
    dark-ink images). ``auto`` is not accepted here: the caller chooses the orientation.
    """
    if invert not in ("yes", "no"):
        raise OptionError(
            f"otsu_thresholds needs invert='yes' or 'no' (the caller picks the orientation), got {invert!r}"
        )
    return run_binarize(as_flat(batch), "otsu", invert)[1]


def local_thresholds(image: np.ndarray, method: str = "sauvola") -> np.ndarray:
    """The Sauvola or Niblack threshold surface (float64 [H, W]) of one dark-ink-on-light image.

    Matches ``skimage.filters.threshold_sauvola`` / ``threshold_niblack`` with the same window and k
    (reflect padding, float64 integral images); pixels above it are background.
    """
    code, _, window, k, r = binarize_codes(method)
    if code not in (M_SAUVOLA, M_NIBLACK):
        raise OptionError(f"local_thresholds needs a sauvola or niblack method, got {method!r}")
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 2:
        raise FormatError(f"expected one uint8 [H, W] image, got {getattr(image, 'dtype', type(image))}")
    h, w = image.shape
    out = np.empty((h, w), dtype=np.float64)
    if h * w:
        flat = np.ascontiguousarray(image).reshape(-1).copy()
        threshold_surface(flat, h, w, False, window, k, r, code == M_SAUVOLA, out)
    return out
