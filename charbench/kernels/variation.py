"""Small random affine (and optional elastic) variations of images, reproducible from a per-image seed.

The class-balancing oversampler uses them to make copies that are new images rather than duplicates.
Random numbers come from a counter-based hash of the seed (``_rng.py``), never from global state, so
a seed gives the same image on every machine and with any number of threads.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from charbench.errors import FormatError, OptionError
from charbench.kernels._jit import dynamic_schedule, jit
from charbench.kernels._rng import seed_key, uniform

GRID = 4  # control points per side of the elastic displacement field
ATTEMPTS = 4  # random draws tried before falling back to a one-pixel shift
IMAGES_PER_ITEM = 64


@jit
def _draw(key, attempt, tan_half_max, max_shear, max_scale, max_shift, elastic, size, field):
    """Inverse affine ``(a, b, c, d, tx, ty)`` of one draw; fills ``field`` [2, GRID, GRID] with displacements."""
    base = attempt * 64
    if attempt == ATTEMPTS:
        # fallback: a one-pixel shift, which always changes an image with ink
        direction = int(uniform(key, base) * 4.0)
        field[:, :, :] = 0.0
        tx = float(int(direction == 0) - int(direction == 1))
        ty = float(int(direction == 2) - int(direction == 3))
        return 1.0, 0.0, 0.0, 1.0, tx, ty
    # rotation from the tangent of its half-angle, t in [-tan_max, tan_max]: cos and sin then need only
    # + - * /, which IEEE rounds the same everywhere (libm's sin/cos may differ in the last bit)
    t = (2.0 * uniform(key, base) - 1.0) * tan_half_max
    cos, sin = (1.0 - t * t) / (1.0 + t * t), 2.0 * t / (1.0 + t * t)
    shear = (2.0 * uniform(key, base + 1) - 1.0) * max_shear
    scale = 1.0 + (2.0 * uniform(key, base + 2) - 1.0) * max_scale
    tx = (2.0 * uniform(key, base + 3) - 1.0) * max_shift * size
    ty = (2.0 * uniform(key, base + 4) - 1.0) * max_shift * size
    for g in range(2 * GRID * GRID):
        field[g // (GRID * GRID), (g // GRID) % GRID, g % GRID] = (
            (2.0 * uniform(key, base + 8 + g) - 1.0) * elastic * size
        )
    # forward map: scale * rotation @ shear = scale * [[cos, cos*sh - sin], [sin, sin*sh + cos]], det scale^2
    a, b, c, d = cos, cos * shear - sin, sin, sin * shear + cos
    inv = 1.0 / scale
    return d * inv, -b * inv, -c * inv, a * inv, tx, ty


@jit
def _field_at(field, i, j, size):
    """Bilinear interpolation of one component of the control grid (``[GRID, GRID]``) at pixel (i, j)."""
    step = (size - 1) / (GRID - 1) if size > 1 else 1.0
    gy, gx = min(i / step, GRID - 1.0), min(j / step, GRID - 1.0)
    y0, x0 = min(int(gy), GRID - 2), min(int(gx), GRID - 2)
    fy, fx = gy - y0, gx - x0
    top = field[y0, x0] * (1.0 - fx) + field[y0, x0 + 1] * fx
    bottom = field[y0 + 1, x0] * (1.0 - fx) + field[y0 + 1, x0 + 1] * fx
    return top * (1.0 - fy) + bottom * fy


@jit
def _sample(src, y, x):
    """Bilinear sample of ``src`` at (y, x) in pixel-index coordinates, zero outside."""
    size = src.shape[0]
    y0, x0 = math.floor(y), math.floor(x)
    fy, fx = y - y0, x - x0
    acc = 0.0
    for dy in range(2):
        for dx in range(2):
            yy, xx = y0 + dy, x0 + dx
            if 0 <= yy < size and 0 <= xx < size:
                acc += (fy if dy else 1.0 - fy) * (fx if dx else 1.0 - fx) * src[yy, xx]
    return acc


@jit
def warp(src, inv, field, use_field, dst):
    """Write ``src`` warped by the inverse affine ``inv`` (and the displacement ``field``) into ``dst``."""
    size = src.shape[0]
    a, b, c, d, tx, ty = inv
    centre = (size - 1) / 2.0
    for i in range(size):
        for j in range(size):
            u, v = j - centre - tx, i - centre - ty
            if use_field:
                u += _field_at(field[0], i, j, size)
                v += _field_at(field[1], i, j, size)
            value = _sample(src, c * u + d * v + centre, a * u + b * v + centre)
            dst[i, j] = min(255, math.floor(value + 0.5))


@jit
def vary_image(src, seed, tan_half_max, max_shear, max_scale, max_shift, elastic, field, dst):
    """One variation of ``src`` (uint8 [S, S]) into ``dst``, redrawn until it differs when ``src`` has ink.

    ``tan_half_max`` is the tangent of half the largest rotation; the other strengths are as in :func:`vary`.
    """
    key = seed_key(seed)
    size = src.shape[0]
    for attempt in range(ATTEMPTS + 1):
        inv = _draw(key, attempt, tan_half_max, max_shear, max_scale, max_shift, elastic, size, field)
        warp(src, inv, field, elastic > 0.0 and attempt < ATTEMPTS, dst)
        for i in range(size):
            for j in range(size):
                if dst[i, j] != src[i, j]:
                    return dst
    return dst  # unchanged only when src has no ink


@jit(parallel=True)
def vary_batch(images, seeds, tan_half_max, max_shear, max_scale, max_shift, elastic, out):
    """Vary every image with its own seed; see :func:`vary` (rotation given as ``tan(max_rotate / 2)``)."""
    count = images.shape[0]
    for c in prange((count + IMAGES_PER_ITEM - 1) // IMAGES_PER_ITEM):
        field = np.empty((2, GRID, GRID), np.float64)
        for n in range(c * IMAGES_PER_ITEM, min(count, (c + 1) * IMAGES_PER_ITEM)):
            vary_image(images[n], seeds[n], tan_half_max, max_shear, max_scale, max_shift, elastic, field, out[n])
    return out


def vary(
    images: np.ndarray,
    seeds: np.ndarray,
    *,
    max_rotate: float = 12.0,
    max_shear: float = 0.15,
    max_scale: float = 0.12,
    max_shift: float = 0.08,
    elastic: float = 0.0,
) -> np.ndarray:
    """A small random variation of each image, the same for the same seed on any machine.

    Each image gets a rotation up to ``max_rotate`` degrees, a shear up to ``max_shear``, a scale
    change up to ``max_scale`` (fraction), a shift up to ``max_shift`` of S, and with ``elastic > 0`` a
    smooth random displacement field whose control points move up to ``elastic`` of S. A draw that
    leaves an image with ink unchanged is redrawn (finally, a one-pixel shift), so copies always
    differ from their original; an image without ink stays empty.

    Args:
        images: uint8 [N, S, S].
        seeds: int64 [N], one per image.

    Returns:
        uint8 [N, S, S].

    Raises:
        FormatError: images or seeds of the wrong shape or dtype.
        OptionError: a negative or non-finite strength.
    """
    seeds = _check_images_and_seeds(images, seeds)
    strengths = (max_rotate, max_shear, max_scale, max_shift, elastic)
    for name, value in zip(("max_rotate", "max_shear", "max_scale", "max_shift", "elastic"), strengths):
        if not (math.isfinite(value) and value >= 0):
            raise OptionError(f"{name} must be a finite number >= 0, got {value}")
    if max_scale >= 1:
        raise OptionError(f"max_scale must be below 1 (a scale of 1 - max_scale must stay positive), got {max_scale}")
    if max_rotate >= 180:
        raise OptionError(f"max_rotate must be below 180 degrees, got {max_rotate}")
    src = np.ascontiguousarray(images)
    src = src if src.flags.writeable else src.copy()  # one numba specialisation: writeable arrays only
    tan_half_max = _tan(max_rotate * math.pi / 360.0)
    with dynamic_schedule():
        return vary_batch(src, seeds, tan_half_max, *(float(v) for v in strengths[1:]), np.empty_like(src))


def _tan(x: float) -> float:
    """tan(x) for 0 <= x < pi/2 from Taylor series of sin and cos: basic IEEE arithmetic only, so the
    same bits on every platform (libm's tan may differ in the last bit, and that would change images)."""
    sin = cos = 0.0
    term_s, term_c = x, 1.0
    for n in range(40):
        sin += term_s
        cos += term_c
        term_s *= -x * x / ((2 * n + 2) * (2 * n + 3))
        term_c *= -x * x / ((2 * n + 1) * (2 * n + 2))
    return sin / cos


def _check_images_and_seeds(images: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 3:
        raise FormatError(f"images must be uint8 [N, S, S], got {getattr(images, 'dtype', type(images))}")
    if images.shape[1] != images.shape[2]:
        raise FormatError(f"images must be square, got {images.shape[1]}x{images.shape[2]}")
    seeds = np.asarray(seeds)
    if seeds.shape != (len(images),) or not np.issubdtype(seeds.dtype, np.integer):
        raise FormatError(f"seeds must be integers [N] = [{len(images)}], got {seeds.dtype} {seeds.shape}")
    return np.ascontiguousarray(seeds, dtype=np.int64)
