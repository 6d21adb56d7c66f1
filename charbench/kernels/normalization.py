"""``normalize``: binarise, crop to the ink, area-resize and centre a batch into ``uint8 [N, S, S]``."""

from __future__ import annotations

import numpy as np
from numba import prange

from charbench.errors import OptionError
from charbench.kernels._jit import dynamic_schedule, jit
from charbench.kernels._layout import FlatBatch, as_flat
from charbench.kernels.binarization import GROUPS_PER_ITEM, binarize_group, make_scratch, run_binarize, span_shape
from charbench.kernels.options import C_NONE, binarize_codes, center_code, check_size, invert_code
from charbench.kernels.ragged import Ragged
from charbench.kernels.resize import fit_image
from charbench.kernels.threshold import LANES


@jit(parallel=True)
def normalize_batch(flat, offsets, shapes, method, fixed_t, window, k, r, invert, size, margin, center, out):
    """Binarise each image at its own resolution, then crop, resize and centre it into ``out[i]``."""
    count = offsets.shape[0]
    per_item = GROUPS_PER_ITEM * LANES
    fit = size - 2 * margin
    for c in prange((count + per_item - 1) // per_item):
        end = min(count, (c + 1) * per_item)
        max_h, max_w = span_shape(shapes, c * per_item, end)
        scratch = make_scratch(method, window, max_h, max_w)
        white = np.empty(LANES * max_h * max_w, np.uint8)
        white_offsets = np.arange(LANES) * (max_h * max_w)
        idx = np.empty((4, fit), np.int64)
        wts = np.empty((4, fit), np.float64)
        tmp = np.empty((max_h, fit), np.float64)
        patch = np.empty((fit, fit), np.float64)
        for lo in range(c * per_item, end, LANES):
            hi = min(count, lo + LANES)
            binarize_group(
                flat, offsets, shapes, lo, hi, method, fixed_t, window, k, r, invert, scratch, white, white_offsets
            )
            for i in range(lo, hi):
                h, w = shapes[i, 0], shapes[i, 1]
                img = white[white_offsets[i - lo] : white_offsets[i - lo] + h * w]
                fit_image(img, h, w, size, margin, center, idx, wts, tmp, patch, out[i])
    return out


def _native_size(fb: FlatBatch, center: str) -> int:
    """The S that ``size=None`` stands for: the images' own side (dense, square batches only)."""
    if fb.dense is None:
        raise OptionError("size=None keeps the native size, which a Ragged batch does not have; pass size=S")
    if fb.dense[1] != fb.dense[2]:
        raise OptionError(f"center={center!r} with size=None needs square images, got {fb.dense[1:]}; pass size")
    return fb.dense[1]


def normalize(
    batch: np.ndarray | Ragged,
    *,
    size: int | None,
    binarize: str = "otsu",
    margin: int = 2,
    center: str = "mass",
    invert: str = "auto",
) -> np.ndarray:
    """Turn a batch of character images into white-ink-on-black ``uint8 [N, S, S]``.

    Each image is binarised at its own resolution after its polarity is fixed, cropped to its ink
    box, area-resized so its longer side is ``S - 2*margin`` (aspect ratio kept), and centred.
    Images without ink come out all zero.

    Args:
        batch: dense ``uint8 [N, H, W]`` or a :class:`Ragged` batch of variable-size images.
        size: output side S; ``None`` keeps the native size (dense input only; S = H = W unless
            ``center="none"``).
        binarize: method string, see :func:`charbench.kernels.options.parse_binarize`.
        margin: blank pixels kept around the fitted character.
        center: ``mass`` (centre of mass at the centre, MNIST style, shifted back inside the frame if
            needed), ``box`` (bounding box centred) or ``none`` (no crop or resize: images must already
            be S x S; with ``binarize="none"`` and ``invert="no"`` the output equals the input).
        invert: ``auto`` (per image: a bright background means dark ink, which is inverted), ``yes``, ``no``.

    Returns:
        uint8 [N, S, S].

    Raises:
        OptionError: an option out of range or not applicable to this input.
        FormatError: ``batch`` is not a uint8 image batch.
    """
    fb = as_flat(batch)
    code, fixed_t, window, k, r = binarize_codes(binarize)
    inv, cen = invert_code(invert), center_code(center)
    if size is None and cen == C_NONE and fb.dense is not None:
        return run_binarize(fb, binarize, invert)[0].reshape(fb.dense)
    size, margin = check_size(_native_size(fb, center) if size is None else size, margin)
    count = len(fb.offsets)
    if cen == C_NONE:
        if count and not (fb.shapes == size).all():
            raise OptionError(f"center='none' does not resize, so every image must already be {size}x{size}")
        return run_binarize(fb, binarize, invert)[0].reshape(count, size, size)
    out = np.empty((count, size, size), dtype=np.uint8)
    with dynamic_schedule():
        normalize_batch(fb.flat, fb.offsets, fb.shapes, code, fixed_t, window, k, r, inv, size, margin, cen, out)
    return out
