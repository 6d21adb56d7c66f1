"""Per-image thresholding kernels: histogram, OpenCV-exact Otsu, ink polarity, Sauvola/Niblack.

Every function here works on one image given as a flat C-ordered ``uint8`` view plus its height and
width, so the same code serves dense batches and ragged ones. Batch kernels live in ``binarization.py``.
"""

import math

from charbench.kernels._jit import jit

# OpenCV's Otsu skips levels where a class weight is below the float32 epsilon; the same constant
# keeps our thresholds identical to cv2.THRESH_OTSU.
FLT_EPSILON = 1.1920928955078125e-07


@jit
def histogram(src, hist4, hist):
    """Count the grey levels of the flat image ``src`` into ``hist`` (int64[256]).

    ``hist4`` (int32[4, 256]) is scratch: four interleaved sub-histograms break the store-to-load
    dependency on runs of one grey level, which binary scans are made of.
    """
    hist4[:, :] = 0
    n = src.shape[0]
    j = 0
    while j + 4 <= n:
        hist4[0, src[j]] += 1
        hist4[1, src[j + 1]] += 1
        hist4[2, src[j + 2]] += 1
        hist4[3, src[j + 3]] += 1
        j += 4
    while j < n:
        hist4[0, src[j]] += 1
        j += 1
    for v in range(256):
        hist[v] = hist4[0, v] + hist4[1, v] + hist4[2, v] + hist4[3, v]
    return hist


# Images whose Otsu searches run side by side: each search is a chain of dependent divisions, and
# running independent images in SIMD lanes overlaps them.
LANES = 16
_HI = 1.0 - FLT_EPSILON


@jit(inline="always")
def _select(cond, a, b):
    # a helper rather than a bare conditional, so LLVM emits blends instead of (slow) masked stores
    return a if cond else b


@jit(error_model="numpy")
def otsu_lanes(hist_t, lanes, out):
    """Otsu's thresholds of the histograms in the columns of ``hist_t`` (float64 [256, L], counts) into ``out``.

    The float operations follow OpenCV's ``getThreshVal_Otsu`` step by step (its running ``mu1`` update,
    its first-maximum tie rule), so each equals cv2's ``THRESH_OTSU`` bit for bit; an all-zero column
    gives 0. ``lanes`` is float64 [6, L] scratch; ``out`` int64 [L]. Division by zero in lanes that
    OpenCV skips is harmless (numpy error model), which keeps the lane loop branch-free.
    """
    m = hist_t.shape[1]  # a run-time trip count: LLVM vectorises the lane loop instead of unrolling it
    scale, mu, mu1, q1, best, arg = lanes[0], lanes[1], lanes[2], lanes[3], lanes[4], lanes[5]
    for g in range(m):
        total = 0.0
        acc = 0.0
        for i in range(256):
            total += hist_t[i, g]
            acc += i * hist_t[i, g]
        scale[g] = 1.0 / total if total > 0.0 else 0.0
        mu[g] = acc * scale[g]
        mu1[g] = q1[g] = best[g] = arg[g] = 0.0
    for i in range(256):
        row = hist_t[i]
        for g in range(m):
            p_i = row[g] * scale[g]
            m1 = mu1[g] * q1[g]
            q = q1[g] + p_i
            q2 = 1.0 - q
            ok = (q >= FLT_EPSILON) & (q2 >= FLT_EPSILON) & (q <= _HI) & (q2 <= _HI)
            new_mu1 = (m1 + i * p_i) / q
            mu2 = (mu[g] - q * new_mu1) / q2
            sigma = q * q2 * (new_mu1 - mu2) * (new_mu1 - mu2)
            better = ok & (sigma > best[g])
            b, a = best[g], arg[g]
            q1[g] = q
            mu1[g] = _select(ok, new_mu1, m1)
            best[g] = _select(better, sigma, b)
            arg[g] = _select(better, float(i), a)
    for g in range(m):
        out[g] = int(arg[g])
    return out


@jit
def frame_vote(src, h, w):
    """+1 when the image's one-pixel frame is mostly bright paper, -1 when mostly dark, 0 when unsure.

    At least three quarters of the frame on one side of mid-grey decides: crops keep paper at their
    edges even when strokes are thick. Images under 3 x 3 have no useful frame (0).
    """
    if h < 3 or w < 3:
        return 0
    bright = 0
    last = (h - 1) * w
    for j in range(w):
        bright += int(src[j] > 127) + int(src[last + j] > 127)
    for i in range(1, h - 1):
        bright += int(src[i * w] > 127) + int(src[i * w + w - 1] > 127)
    frame = 2 * w + 2 * (h - 2)
    if 4 * bright >= 3 * frame:
        return 1
    if 4 * bright <= frame:
        return -1
    return 0


@jit
def median_is_bright(hist, n):
    """Whether the (lower) median grey level of a histogram of ``n`` pixels is above mid-grey.

    Ink covers less than half of a character image, so the median is a paper pixel.
    """
    half = (n + 1) // 2
    seen = 0
    for v in range(256):
        seen += hist[v]
        if seen >= half:
            return v > 127
    return False


@jit
def reflect_index(p, n):
    """Index ``p`` mirrored into ``[0, n)`` without repeating the edge (numpy's ``mode='reflect'``)."""
    if n == 1:
        return 0
    period = 2 * (n - 1)
    p = p % period
    return period - p if p >= n else p


@jit
def reflect_integrals(src, h, w, flip, radius, xmap, s1, s2):
    """Integral images of the reflect-padded image and of its square, as scikit-image pads them.

    The image read is ``255 - src`` when ``flip``. ``s1``/``s2`` (float64, at least
    ``(h + 2r + 1, w + 2r + 1)``) get a zero first row and column; ``xmap`` (int64, at least
    ``w + 2r``) is scratch. Every entry is an integer sum, exact in float64.
    """
    pw = w + 2 * radius
    a = 255 if flip else 0
    b = -1 if flip else 1
    for q in range(pw):
        xmap[q] = reflect_index(q - radius, w)
    for q in range(pw + 1):
        s1[0, q] = 0.0
        s2[0, q] = 0.0
    for p in range(h + 2 * radius):
        row = reflect_index(p - radius, h) * w
        s1[p + 1, 0] = 0.0
        s2[p + 1, 0] = 0.0
        # integer running sums: a one-cycle dependency chain instead of a float add's four
        acc1 = 0
        acc2 = 0
        for q in range(pw):
            v = a + b * int(src[row + xmap[q]])
            acc1 += v
            acc2 += v * v
            s1[p + 1, q + 1] = s1[p, q + 1] + acc1
            s2[p + 1, q + 1] = s2[p, q + 1] + acc2


@jit
def local_threshold_at(s1, s2, i, j, window, inv_area, k, inv_r, sauvola):
    """Sauvola ``m * (1 + k * (s / r - 1))`` or Niblack ``m - k * s`` threshold at pixel (i, j).

    ``inv_area`` is ``1 / window**2`` and ``inv_r`` is ``1 / r``: multiplications instead of three
    divisions per pixel, which moves the result from scikit-image's by a few ulps at most.
    """
    t1 = s1[i, j] - s1[i, j + window] - s1[i + window, j] + s1[i + window, j + window]
    t2 = s2[i, j] - s2[i, j + window] - s2[i + window, j] + s2[i + window, j + window]
    m = t1 * inv_area
    var = t2 * inv_area - m * m
    s = math.sqrt(var) if var > 0.0 else 0.0
    if sauvola:
        return m * (1.0 + k * (s * inv_r - 1.0))
    return m - k * s


@jit
def local_binarize(src, h, w, flip, window, k, r, sauvola, s1, s2, dst):
    """Ink (255) where the paper-view pixel is below its local threshold, else 0.

    The paper view is dark ink on light paper (``255 - src`` when ``flip``), the orientation Sauvola
    and Niblack were designed for. As in scikit-image, pixels above the threshold are background;
    pixels equal to it are too, so flat regions (std 0, where Niblack's threshold is the mean) stay paper.
    ``s1``/``s2`` must hold :func:`reflect_integrals` of the same view.
    """
    a = 255.0 if flip else 0.0
    b = -1.0 if flip else 1.0
    inv_area = 1.0 / (window * window)
    inv_r = 1.0 / r
    for i in range(h):
        for j in range(w):
            t = local_threshold_at(s1, s2, i, j, window, inv_area, k, inv_r, sauvola)
            dst[i * w + j] = 255 if a + b * src[i * w + j] < t else 0
