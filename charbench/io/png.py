"""A fast decoder for the PNGs character datasets are made of: grey, 1/2/4/8 bits per pixel, not interlaced.

Decoding one small PNG per character is the hot path of a prepare. Here the chunks are read with ``struct``, the
IDAT stream is inflated with ``zlib`` and the row filters are undone by a numba kernel
(:func:`charbench.kernels.png.unfilter_grey`), which skips most of ``cv2.imdecode``'s per-call machinery and its
slow unpacking of 1-bit rows. The pixels equal OpenCV's ``IMREAD_GRAYSCALE`` and Pillow's ``convert("L")``: 8-bit
as stored, 1-bit as 0/255, 2-bit times 85, 4-bit times 17.

Anything else returns None so the caller can fall back to OpenCV or Pillow: no PNG signature, another colour type
or bit depth, interlacing, a ``tRNS`` chunk, and layouts that libpng and Pillow read leniently or differently (a
``PLTE`` chunk in a grey file, an unknown critical chunk, IDAT chunks that are not consecutive).

Damage raises :class:`~charbench.io.images.UnreadableImageError` naming the file: a malformed IHDR, a zero side or
more than ``MAX_PIXELS`` pixels (refused before anything is allocated), a truncated chunk or a missing IEND, any
chunk's CRC mismatch (ancillary chunks included, stricter than libpng), a zlib error or a stream without its end,
inflated data longer or shorter than the IHDR implies (inflation stops one byte past the expected size, so a zip
bomb never allocates more), a row filter type above 4.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from charbench.errors import UnreadableImageError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_PIXELS = 1 << 26  # 64 MP: far above a character image, below what would exhaust memory (every decoder's cap)

SUPPORTED_DEPTHS = (1, 2, 4, 8)
_IHDR = struct.Struct(">I4sIIBBBBBI")  # length, type, width, height, depth, colour, compression, filter, interlace, crc
_CHUNK_HEAD = struct.Struct(">I4s")
_CRC = struct.Struct(">I")
_UNSUPPORTED_CHUNKS = frozenset({b"tRNS", b"PLTE"})
_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # the whole IEND chunk: it has no data, so its CRC is fixed


def png_header(data: bytes) -> tuple[int, int, int, int] | None:
    """``(height, width, bit depth, colour type)`` from a PNG's IHDR chunk, or None when ``data`` is no PNG."""
    if len(data) < 26 or data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return height, width, data[24], data[25]


def decode_grey_png(data: bytes, name: str, into: np.ndarray | None = None) -> np.ndarray | None:
    """The grey PNG in ``data`` as a uint8 [H, W] array, or None when this decoder does not handle it.

    Args:
        data: the whole file.
        name: the file's name, for error messages.
        into: a writeable uint8 array (a slot of a stack) to decode into when the image has its shape; the result is
            then ``into`` itself, else a new array.

    Raises:
        UnreadableImageError: the file is a damaged PNG (see the module docstring).
    """
    parsed = _parse(data, name)
    if parsed is None:
        return None
    height, width, depth, raw = parsed
    fits = into is not None and into.shape == (height, width) and into.dtype == np.uint8 and into.flags.writeable
    dst = into if fits else np.empty((height, width), np.uint8)
    _unfilter(raw, height, width, depth, dst, name)
    return dst


def decode_grey_png_into(data: bytes, name: str, dst: np.ndarray) -> bool:
    """Decode the grey PNG in ``data`` straight into ``dst``, e.g. one slot of a stack of images.

    Args:
        data: the whole file.
        name: the file's name, for error messages.
        dst: a writeable uint8 array of the image's shape (:func:`png_header` reads it).

    Returns:
        True when decoded; False when this decoder does not handle the file (``dst`` is then untouched).

    Raises:
        UnreadableImageError: the file is a damaged PNG (``dst`` may be partly written).
        ValueError: ``dst`` is not a writeable uint8 array of the image's shape.
    """
    parsed = _parse(data, name)
    if parsed is None:
        return False
    height, width, depth, raw = parsed
    if dst.dtype != np.uint8 or dst.shape != (height, width) or not dst.flags.writeable:
        raise ValueError(f"{name}: a {height}x{width} image cannot go into a {dst.dtype} array of {dst.shape}")
    _unfilter(raw, height, width, depth, dst, name)
    return True


def _parse(data: bytes, name: str) -> tuple[int, int, int, bytes] | None:
    """``(height, width, bit depth, inflated IDAT bytes)``, or None for a file this module leaves to others."""
    if data[:8] != PNG_SIGNATURE:
        return None
    header = _read_ihdr(data, name)
    if header is None:
        return None
    idat = _collect_idat(data, name)
    if idat is None:
        return None
    height, width, depth = header
    return height, width, depth, _inflate(idat, height * (((width * depth + 7) >> 3) + 1), name)


def _read_ihdr(data: bytes, name: str) -> tuple[int, int, int] | None:
    """``(height, width, bit depth)`` of a supported IHDR, None for an unsupported one; raises for a damaged one."""
    if len(data) < 33:
        raise UnreadableImageError(f"{name}: PNG truncated in its IHDR chunk ({len(data)} bytes)")
    length, kind, width, height, depth, colour, compression, filtering, interlace, crc = _IHDR.unpack_from(data, 8)
    if kind != b"IHDR" or length != 13:
        raise UnreadableImageError(f"{name}: PNG does not start with a 13-byte IHDR chunk")
    if zlib.crc32(memoryview(data)[12:29]) != crc:
        raise UnreadableImageError(f"{name}: PNG chunk IHDR fails its CRC check")
    if colour != 0 or depth not in SUPPORTED_DEPTHS or interlace != 0 or compression != 0 or filtering != 0:
        return None
    if width == 0 or height == 0 or width * height > MAX_PIXELS:
        raise UnreadableImageError(f"{name}: PNG of {width}x{height} pixels (accepted: 1 to {MAX_PIXELS:,})")
    return height, width, depth


def _collect_idat(data: bytes, name: str) -> bytes | memoryview | None:
    """The IDAT payloads after IHDR, joined; None when a chunk makes the file unsupported. Checks CRCs and IEND."""
    view = memoryview(data)
    parts: list[memoryview] = []
    pos, end, run_over = 33, len(data), False  # run_over: another chunk followed the IDAT run
    while not data.startswith(_IEND, pos):
        if pos + 12 > end:
            raise UnreadableImageError(f"{name}: PNG truncated at byte {end} (no IEND chunk)")
        length, kind = _CHUNK_HEAD.unpack_from(data, pos)
        stop = pos + 12 + length
        if stop > end:
            raise UnreadableImageError(f"{name}: PNG chunk {kind!r} at byte {pos} truncated ({length} bytes declared)")
        if zlib.crc32(view[pos + 4 : stop - 4]) != _CRC.unpack_from(data, stop - 4)[0]:
            raise UnreadableImageError(f"{name}: PNG chunk {kind!r} at byte {pos} fails its CRC check")
        if kind == b"IDAT":
            if run_over:
                return None  # IDAT chunks must be consecutive; leave the odd file to libpng / Pillow
            parts.append(view[pos + 8 : stop - 4])
        elif kind == b"IEND":  # with data, which it should not have
            break
        elif kind in _UNSUPPORTED_CHUNKS or not kind[0] & 0x20:  # bit 5 of the first letter clear: critical
            return None
        else:
            run_over = bool(parts)
        pos = stop
    if not parts:
        raise UnreadableImageError(f"{name}: PNG has no IDAT chunk")
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _inflate(idat: bytes | memoryview, expected: int, name: str) -> bytes:
    """The zlib stream ``idat`` inflated, which must be exactly ``expected`` bytes; inflates at most one byte more."""
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(idat, expected + 1)
    except zlib.error as exc:
        raise UnreadableImageError(f"{name}: PNG image data is not a valid zlib stream ({exc})") from None
    if len(raw) > expected:
        raise UnreadableImageError(f"{name}: PNG image data inflates beyond the {expected} bytes its IHDR implies")
    if not inflater.eof:
        raise UnreadableImageError(f"{name}: PNG image data ends inside its zlib stream ({len(raw)} bytes inflated)")
    if len(raw) != expected:
        raise UnreadableImageError(f"{name}: PNG image data inflates to {len(raw)} bytes, its IHDR implies {expected}")
    return raw


def _unfilter(raw: bytes, height: int, width: int, depth: int, dst: np.ndarray, name: str) -> None:
    """Run the kernel (on the bytes themselves: numba reads them without an array wrapper); raise for a bad row."""
    from charbench.kernels.png import OK, unfilter_grey  # numba loads on the first decode, not on import

    if unfilter_grey(raw, height, width, depth, dst) != OK:
        stride = ((width * depth + 7) >> 3) + 1
        src = np.frombuffer(raw, np.uint8)
        row = int(np.argmax(src[::stride] > 4))
        raise UnreadableImageError(f"{name}: PNG row {row} has filter type {src[row * stride]} (valid: 0 to 4)")
