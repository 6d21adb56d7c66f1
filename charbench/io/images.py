"""Image files of any format Pillow reads (PNG, JPEG, BMP, TIFF, GIF, WebP), decoded to one grey uint8 plane.

Character datasets keep one character per file, so decoding is the hot path of a prepare: grey PNGs at 1 to 8 bits
(MNIST PNG trees, most Kaggle downloads, Omniglot's bilevel drawings) go through :mod:`charbench.io.png`, which
decodes them exactly as Pillow does at a fraction of the cost; every other file goes through Pillow:

* 1-bit, grey, palette and RGB images become grey with Pillow's ``convert("L")`` (ITU-R 601-2 luma);
* an alpha channel (RGBA, LA, a palette with transparency) is composited over white first, so dark ink drawn on a
  transparent canvas stays dark ink on light paper (the polarity rule then makes it white on black);
* 16-bit grey (``I;16``) is scaled to 0..255 by 65535, 32-bit grey (``I``, ``F``) by its own maximum when that is
  above 255;
* a multi-frame file (animated GIF, multi-page TIFF) gives its first frame.

Decoding errors raise :class:`UnreadableImageError` naming the file and the problem. A PNG the fast path finds damaged
is still offered to Pillow, which reads some damage libpng tolerates (a bad CRC on an ancillary chunk); when Pillow
fails too, the fast path's more precise reason is the one raised.
"""

from __future__ import annotations

import io
import struct
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from charbench.errors import UnreadableImageError
from charbench.io.png import MAX_PIXELS, PNG_SIGNATURE, decode_grey_png, png_header

__all__ = ["IMAGE_SUFFIXES", "MAX_PIXELS", "PNG_SIGNATURE", "UnreadableImageError", "decode_grey", "image_shape",
           "png_header"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp", ".pgm", ".pbm", ".ppm")
_PIL_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError,
               struct.error, IndexError, TypeError, ZeroDivisionError)


def decode_grey(data: bytes, name: str, into: np.ndarray | None = None) -> np.ndarray:
    """The image in ``data`` as grey uint8 [H, W] (see the module docstring for the conversion rules).

    ``into``: a uint8 array (a slot of a stack) that a grey PNG of its shape is decoded into, and then returned;
    other images come back as new arrays.

    Raises:
        UnreadableImageError: the bytes are not an image Pillow can read, or it is larger than MAX_PIXELS.
    """
    damage = None
    try:
        img = decode_grey_png(data, name, into)
        if img is not None:
            return img
    except UnreadableImageError as exc:
        damage = exc
    try:
        return _decode_with_pillow(data, name)
    except UnreadableImageError:
        if damage is not None:
            raise damage from None
        raise


def image_shape(data: bytes, name: str) -> tuple[int, int]:
    """``(height, width)`` of the image ``decode_grey`` gives for ``data``, from its header alone: no pixel is
    decoded, so a scan can learn sizes cheaply. Damage past the header shows only when the image is decoded.

    Raises:
        UnreadableImageError: no image header can be read from ``data``.
    """
    header = png_header(data)
    if header is not None:
        return header[0], header[1]
    try:
        with Image.open(io.BytesIO(data)) as im:  # lazy: reads the header only
            return im.height, im.width
    except _PIL_ERRORS as exc:
        raise _unreadable(name, exc) from None


def _decode_with_pillow(data: bytes, name: str) -> np.ndarray:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                if im.width * im.height > MAX_PIXELS:
                    raise UnreadableImageError(f"{name}: {im.width}x{im.height} pixels, over the {MAX_PIXELS:,} cap")
                im.seek(0)
                return _to_grey(im)
    except UnreadableImageError:
        raise
    except (*_PIL_ERRORS, Image.DecompressionBombWarning) as exc:
        raise _unreadable(name, exc) from None


def _unreadable(name: str, exc: Exception) -> UnreadableImageError:
    return UnreadableImageError(f"{name}: not a readable image ({type(exc).__name__}: {exc})")


def _to_grey(im: Image.Image) -> np.ndarray:
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(im, dtype=np.float64)
        top = 65535.0 if im.mode.startswith("I;16") else max(float(a.max()) if a.size else 0.0, 255.0)
        return np.clip(np.rint(a * (255.0 / top)), 0, 255).astype(np.uint8)
    if im.mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        paper = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(paper, im.convert("RGBA"))
    return np.array(im.convert("L"), dtype=np.uint8)
