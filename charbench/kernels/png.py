"""PNG row reconstruction for grey images at 1, 2, 4 or 8 bits per sample (the kernel of ``charbench.io.png``).

``charbench.io.png`` parses the chunks and inflates the IDAT stream; :func:`unfilter_grey` undoes the per-row
filters (None, Sub, Up, Average, Paeth) and expands packed samples to 8 bits exactly as libpng and Pillow do for
grey: 1-bit to 0/255, 2-bit times 85, 4-bit times 17, most significant bits first within a byte. Grey at these
depths filters with one byte per pixel (PNG spec 9.2), so a byte's left neighbour is the previous byte.

The row loop calls no helper that takes an array: numba increments and decrements an array's reference count
(atomically) around every such call, and for small images those updates cost more than the unfiltering itself.
"""

import numpy as np

from charbench.kernels._jit import jit

OK = 0
BAD_FILTER = 1


@jit(inline="always")
def _paeth(a, b, c):
    """The Paeth predictor of a byte from its left (a), upper (b) and upper-left (c) neighbours."""
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


@jit
def unfilter_grey(raw, height, width, bit_depth, dst):
    """Unfilter the inflated IDAT bytes ``raw`` of a grey PNG into ``dst`` (uint8 [height, width], 8-bit samples).

    ``raw`` (``bytes`` or a uint8 array) holds ``height`` rows of one filter-type byte and
    ``stride = ceil(width * bit_depth / 8)`` bytes; the caller checks its length. Rows are reconstructed in two
    scratch rows (one allocation per call; the second is the zero row above row 0) and then copied or expanded
    into ``dst``. Returns ``OK`` (0), or ``BAD_FILTER`` (1) at the first filter-type byte above 4, with ``dst``
    written up to that row.
    """
    stride = (width * bit_depth + 7) >> 3
    rows = np.zeros((2, stride), np.uint8)  # row y is reconstructed in rows[y & 1], above it is rows[1 - (y & 1)]
    # Sums are stored into uint8, which keeps them modulo 256 as the PNG filters require.
    mask = (1 << bit_depth) - 1
    scale = 255 // mask  # 255, 85, 17 or 1
    for y in range(height):
        at, c = y * (stride + 1) + 1, y & 1
        p, ftype = 1 - c, raw[at - 1]
        if ftype == 0:
            for i in range(stride):
                rows[c, i] = raw[at + i]
        elif ftype == 1:
            rows[c, 0] = raw[at]
            for i in range(1, stride):
                rows[c, i] = raw[at + i] + rows[c, i - 1]
        elif ftype == 2:
            for i in range(stride):
                rows[c, i] = raw[at + i] + rows[p, i]
        elif ftype == 3:
            rows[c, 0] = raw[at] + (rows[p, 0] >> 1)
            for i in range(1, stride):
                rows[c, i] = raw[at + i] + ((np.int32(rows[c, i - 1]) + rows[p, i]) >> 1)
        elif ftype == 4:  # the first byte's left neighbours are 0, so Paeth predicts the byte above
            rows[c, 0] = raw[at] + rows[p, 0]
            for i in range(1, stride):
                left, up, corner = np.int32(rows[c, i - 1]), np.int32(rows[p, i]), np.int32(rows[p, i - 1])
                rows[c, i] = raw[at + i] + _paeth(left, up, corner)
        else:
            return BAD_FILTER
        if bit_depth == 8:
            for x in range(width):
                dst[y, x] = rows[c, x]
        elif bit_depth == 1:  # bilevel scans are common: whole bytes with constant shifts unroll well
            for b in range(width >> 3):
                v = rows[c, b]
                for k in range(8):
                    dst[y, 8 * b + k] = ((v >> (7 - k)) & 1) * 255
            for x in range(width & ~7, width):
                dst[y, x] = ((rows[c, x >> 3] >> (7 - (x & 7))) & 1) * 255
        else:
            for x in range(width):
                bit = x * bit_depth
                dst[y, x] = ((rows[c, bit >> 3] >> (8 - bit_depth - (bit & 7))) & mask) * scale
    return OK
