"""Per-image geometry kernels: ink bounding box, area (anti-aliased) resize, centring in an S x S frame.

Images are flat C-ordered ``uint8`` views with their height and width, as in ``threshold.py``.
"""

import math

from charbench.kernels._jit import jit
from charbench.kernels.options import C_BOX


@jit
def _row_has_ink(img, row, w):
    for j in range(w):
        if img[row + j] != 0:
            return True
    return False


@jit
def ink_box(img, h, w):
    """``(y0, y1, x0, x1)``, the half-open box of non-zero pixels; ``y1 == 0`` when there are none."""
    y0 = 0
    while y0 < h and not _row_has_ink(img, y0 * w, w):
        y0 += 1
    if y0 == h:
        return 0, 0, 0, 0
    y1 = h
    while not _row_has_ink(img, (y1 - 1) * w, w):
        y1 -= 1
    # columns: each row only needs scanning outside the box found so far
    x0, x1 = w, 0
    for y in range(y0, y1):
        row = y * w
        for j in range(x0):
            if img[row + j] != 0:
                x0 = j
                break
        for j in range(w - 1, x1 - 1, -1):
            if img[row + j] != 0:
                x1 = j + 1
                break
    return y0, y1, x0, x1


@jit
def area_table(src_len, dst_len, idx, wts):
    """Source span and edge weights of every output pixel when resizing ``src_len`` to ``dst_len``.

    Output pixel ``j`` covers source ``[j * s, (j + 1) * s)`` with ``s = src_len / dst_len``: pixels
    ``idx[0, j]`` to ``idx[1, j] - 1``, weighted by their overlap (``wts[0, j]`` for the first,
    ``wts[1, j]`` for the last, 1 in between). This is pixel-area resampling for both shrinking
    (cv2.INTER_AREA) and enlarging (box interpolation).
    """
    s = src_len / dst_len
    for j in range(dst_len):
        a = j * s
        b = (j + 1) * s
        first = min(math.floor(a), src_len - 1)
        end = max(min(math.ceil(b), src_len), first + 1)
        idx[0, j] = first
        idx[1, j] = end
        if end - first == 1:
            wts[0, j] = b - a
            wts[1, j] = 0.0
        else:
            wts[0, j] = first + 1 - a
            wts[1, j] = b - (end - 1)


@jit
def area_resize(img, w, y0, y1, x0, x1, th, tw, idx, wts, tmp, patch):
    """Resize the crop ``img[y0:y1, x0:x1]`` (row stride ``w``) to ``th x tw`` grey levels in ``patch``.

    ``idx`` (int64 [4, >= max(th, tw)]) and ``wts`` (float64, same shape) hold the axis tables;
    ``tmp`` (float64 [>= y1 - y0, >= tw]) holds the horizontal pass. ``patch`` is float64 [>= th, >= tw].
    """
    hc, wc = y1 - y0, x1 - x0
    # rows 0-1 of the tables describe columns, rows 2-3 rows (views, so no literal arguments
    # make numba compile area_table twice)
    area_table(wc, tw, idx[0:2], wts[0:2])
    area_table(hc, th, idx[2:4], wts[2:4])
    for y in range(hc):
        row = (y0 + y) * w + x0
        for j in range(tw):
            first, end = idx[0, j], idx[1, j]
            acc = wts[0, j] * img[row + first]
            if end - first > 1:
                acc += wts[1, j] * img[row + end - 1]
                for x in range(first + 1, end - 1):
                    acc += img[row + x]
            tmp[y, j] = acc
    norm = (th / hc) * (tw / wc)
    for i in range(th):
        first, end = idx[2, i], idx[3, i]
        w0, w1 = wts[2, i], wts[3, i]
        for j in range(tw):
            acc = w0 * tmp[first, j]
            if end - first > 1:
                acc += w1 * tmp[end - 1, j]
            patch[i, j] = acc
        for y in range(first + 1, end - 1):
            for j in range(tw):
                patch[i, j] += tmp[y, j]
        for j in range(tw):
            patch[i, j] *= norm


@jit
def _offset(size, extent, com):
    """Top-left offset putting ``com`` (pixel index units) at the frame centre, kept inside the frame."""
    o = math.floor(size / 2.0 - com + 0.5)
    return min(max(o, 0), size - extent)


@jit
def place(patch, th, tw, size, center, dst):
    """Write ``patch`` (grey levels) into the zeroed ``size x size`` frame ``dst``, centred.

    ``center`` is C_MASS (centre of mass at the frame centre, as MNIST; clipped so nothing is cut)
    or C_BOX (the box in the middle). Values are rounded half up and clipped to 0..255.
    """
    oy, ox = (size - th) // 2, (size - tw) // 2
    if center != C_BOX:
        m = sy = sx = 0.0
        for i in range(th):
            for j in range(tw):
                v = patch[i, j]
                m += v
                sy += i * v
                sx += j * v
        if m > 0.0:
            # pixel i spans [i, i + 1): its centre is i + 0.5, and the frame centre is size / 2
            oy = _offset(size, th, sy / m + 0.5)
            ox = _offset(size, tw, sx / m + 0.5)
    dst[:, :] = 0
    for i in range(th):
        for j in range(tw):
            dst[oy + i, ox + j] = min(255, math.floor(patch[i, j] + 0.5))


@jit
def fit_image(img, h, w, size, margin, center, idx, wts, tmp, patch, dst):
    """Crop one flat white-ink image to its ink, area-resize its longer side to ``size - 2*margin``, centre it.

    An image without ink gives an all-zero frame. Scratch shapes are those of :func:`area_resize`.
    """
    y0, y1, x0, x1 = ink_box(img, h, w)
    if y1 == 0:
        dst[:, :] = 0
        return dst
    hc, wc = y1 - y0, x1 - x0
    fit = size - 2 * margin
    f = fit / max(hc, wc)
    th = min(fit, max(1, math.floor(hc * f + 0.5)))
    tw = min(fit, max(1, math.floor(wc * f + 0.5)))
    area_resize(img, w, y0, y1, x0, x1, th, tw, idx, wts, tmp, patch)
    place(patch, th, tw, size, center, dst)
    return dst
