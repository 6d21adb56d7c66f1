"""TIFF character images to ``uint8`` greyscale, and the HPL isolated-character file names.

Character datasets store small single-strip TIFFs, bi-level or 8-bit and mostly uncompressed. Those are decoded
here straight from the bytes (header, IFD and strips read with ``struct``, bits unpacked with numpy), several times
faster than going through Pillow's plugin machinery; every other TIFF (any compression, tiles, 16-bit, colour,
BigTIFF, multi-page) goes to Pillow. Either way the result looks like the page: dark ink stays dark (photometric
interpretation applied), 1-bit becomes 0/255. Multi-page files yield their first page.
"""

from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass

import numpy as np

from charbench.errors import FormatError

TIFF_SUFFIXES = (".tif", ".tiff")
# Tags the fast path reads; anything else it ignores (resolution, software, dates ...).
_WIDTH, _HEIGHT, _BITS, _COMPRESSION, _PHOTOMETRIC, _FILL_ORDER = 256, 257, 258, 259, 262, 266
_STRIP_OFFSETS, _SAMPLES, _ROWS_PER_STRIP, _STRIP_COUNTS, _TILE_WIDTH = 273, 277, 278, 279, 322
_WANTED = frozenset(
    {
        _WIDTH,
        _HEIGHT,
        _BITS,
        _COMPRESSION,
        _PHOTOMETRIC,
        _FILL_ORDER,
        _STRIP_OFFSETS,
        _SAMPLES,
        _ROWS_PER_STRIP,
        _STRIP_COUNTS,
        _TILE_WIDTH,
    }
)
_TYPES = {1: "B", 3: "H", 4: "I", 6: "b", 8: "h", 9: "i", 16: "Q"}  # integer TIFF field types
_SIZES = {"B": 1, "b": 1, "H": 2, "h": 2, "I": 4, "i": 4, "Q": 8}
_MAX_SIDE = 1 << 15
_MAX_PIXELS = 1 << 24  # 16 MP: far above any character image; Pillow is not asked to allocate more

_HPL_FILE = re.compile(r"^(\d+)t(\d+)(?:\.usr_?(\d+))?\.tiff?$", re.IGNORECASE)
_USR_DIR = re.compile(r"^usr_?(\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class HplName:
    """What an HPL file name says: class id, sample (trial) number, writer (-1 when the name has none)."""

    label: int
    sample: int
    writer: int


def parse_hpl_name(rel: str) -> HplName | None:
    """``usr_26/154t05.tiff``, ``154t05.usr_26.tiff`` or a loose ``154t05.tiff``; None for any other name."""
    parts = rel.replace("\\", "/").split("/")
    m = _HPL_FILE.match(parts[-1])
    if not m:
        return None
    writer = m.group(3)
    if writer is None and len(parts) > 1 and (d := _USR_DIR.match(parts[-2])):
        writer = d.group(1)
    return HplName(int(m.group(1)), int(m.group(2)), int(writer) if writer is not None else -1)


@dataclass(frozen=True)
class _Layout:
    """An uncompressed single-sample page the fast path decodes."""

    height: int
    width: int
    bits: int  # 1 or 8
    white_is_zero: bool
    strips: tuple[tuple[int, int], ...]  # (offset, byte count)


def _ifd(data: bytes) -> tuple[dict[int, tuple[int, ...]], int] | None:
    """Tags of the first IFD and the next IFD's offset; None for BigTIFF (left to Pillow).

    Raises:
        FormatError: not a TIFF, or the header or IFD runs past the end of the file.
    """
    if len(data) < 8:
        raise FormatError(f"{len(data)} bytes: too short for a TIFF header")
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None:
        raise FormatError(f"not a TIFF file (starts with {data[:4]!r})")
    magic, offset = struct.unpack_from(order + "HI", data, 2)
    if magic == 43:
        return None
    if magic != 42:
        raise FormatError(f"TIFF magic 42 expected, got {magic}")
    if offset + 2 > len(data):
        raise FormatError(f"first IFD at byte {offset} lies past the end of the file ({len(data)} bytes)")
    (count,) = struct.unpack_from(order + "H", data, offset)
    end = offset + 2 + 12 * count
    if end + 4 > len(data):
        raise FormatError(f"IFD of {count} entries runs past the end of the file ({len(data)} bytes)")
    tags = {}
    raw = struct.unpack_from(order + "HHI4s" * count, data, offset + 2)  # one call: tag, type, count, value
    for k in range(0, 4 * count, 4):
        tag, kind, n, value = raw[k : k + 4]
        if tag not in _WANTED or kind not in _TYPES:
            continue
        fmt = _TYPES[kind]
        if n * _SIZES[fmt] <= 4:
            tags[tag] = struct.unpack_from(f"{order}{n}{fmt}", value)
            continue
        (where,) = struct.unpack_from(order + "I", value)
        if where + n * _SIZES[fmt] > len(data):
            raise FormatError(f"TIFF tag {tag} points past the end of the file")
        tags[tag] = struct.unpack_from(f"{order}{n}{fmt}", data, where)
    return tags, struct.unpack_from(order + "I", data, end)[0]


def _layout(tags: dict[int, tuple[int, ...]], size: int) -> _Layout | None:
    """The fast-path layout, or None when the page needs Pillow (compression, tiles, colour, 16-bit ...)."""
    first = {t: v[0] for t, v in tags.items() if v}
    if _WIDTH not in first or _HEIGHT not in first:
        raise FormatError("TIFF page without ImageWidth/ImageLength")
    h, w = first[_HEIGHT], first[_WIDTH]
    if not (0 < h <= _MAX_SIDE and 0 < w <= _MAX_SIDE):
        raise FormatError(f"TIFF page of {w}x{h} pixels")
    bits = tags.get(_BITS, (1,))
    plain = (
        first.get(_COMPRESSION, 1) == 1
        and first.get(_SAMPLES, 1) == 1
        and len(set(bits)) == 1
        and bits[0] in (1, 8)
        and first.get(_PHOTOMETRIC, 1) in (0, 1)
        and first.get(_FILL_ORDER, 1) == 1
        and _TILE_WIDTH not in tags
        and _STRIP_OFFSETS in tags
    )
    if not plain:
        return None
    offsets, counts = tags[_STRIP_OFFSETS], tags.get(_STRIP_COUNTS, ())
    row_bytes = (w * bits[0] + 7) // 8
    if len(counts) != len(offsets):  # StripByteCounts missing or short: infer from RowsPerStrip
        rows = first.get(_ROWS_PER_STRIP, h)
        counts = tuple(min(rows, h - k * rows) * row_bytes for k in range(len(offsets)))
    strips = tuple(zip(offsets, counts))
    if any(o < 0 or c < 0 for o, c in strips):  # signed field types (SLONG) can point before the file
        raise FormatError(f"a strip at offset {min(o for o, _ in strips)} with {min(c for _, c in strips)} bytes")
    if any(o + c > size for o, c in strips):
        raise FormatError(f"pixel data runs past the end of the file ({size} bytes): truncated")
    if sum(c for _, c in strips) < row_bytes * h:
        raise FormatError(f"strips hold {sum(c for _, c in strips)} bytes, a {w}x{h} page needs {row_bytes * h}")
    return _Layout(h, w, bits[0], first.get(_PHOTOMETRIC, 1) == 0, strips)


def tiff_size(data: bytes, verify: bool = False) -> tuple[int, int]:
    """(height, width) of the first page, without decoding pixels where the fast path applies (it then checks that
    every strip lies inside the file, which is all decoding can trip on).

    Args:
        data: The file's bytes.
        verify: Decode pages that need Pillow (compressed ones), whose data can only be checked that way.

    Raises:
        FormatError: empty, not a TIFF, or truncated (the message says which).
    """
    if not data:
        raise FormatError("empty (zero-byte) file")
    parsed = _ifd(data)
    if parsed is not None:
        layout = _layout(parsed[0], len(data))
        if layout is not None:
            return layout.height, layout.width
    if verify:
        return _pillow_decode(data).shape
    return _pillow_size(data)


def decode_tiff(data: bytes) -> np.ndarray:
    """The first page of a TIFF as ``uint8 [H, W]`` grey (0 black, 255 white).

    Raises:
        FormatError: the bytes are not a readable TIFF.
    """
    if not data:
        raise FormatError("empty (zero-byte) file")
    parsed = _ifd(data)
    layout = _layout(parsed[0], len(data)) if parsed is not None else None
    if layout is None:
        return _pillow_decode(data)
    row_bytes = (layout.width * layout.bits + 7) // 8
    (o, c), *rest = layout.strips
    buf = data[o : o + c] if not rest else b"".join(data[o : o + c] for o, c in layout.strips)
    raw = np.frombuffer(buf, np.uint8, count=row_bytes * layout.height).reshape(layout.height, row_bytes)
    if layout.bits == 1:
        ink = np.unpackbits(raw, axis=1, count=layout.width)
        # BlackIsZero: a set bit is white; WhiteIsZero (fax convention): a set bit is black
        return (ink ^ 1) * np.uint8(255) if layout.white_is_zero else ink * np.uint8(255)
    return 255 - raw if layout.white_is_zero else raw.copy()


def page_count_hint(data: bytes) -> bool:
    """True when the file holds more than one page (its first IFD links to another)."""
    parsed = _ifd(data) if len(data) >= 8 else None
    return bool(parsed and parsed[1])


def _pillow_errors() -> tuple[type[BaseException], ...]:
    """What Pillow raises on a bad file; its TIFF plugin lets TypeError (a tag of an unexpected type),
    EOFError and DecompressionBombError escape as well."""
    from PIL import Image, UnidentifiedImageError

    return (UnidentifiedImageError, OSError, ValueError, SyntaxError, struct.error, EOFError, TypeError,
            Image.DecompressionBombError)


def _pillow_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.size[1], im.size[0]
    except _pillow_errors() as exc:
        raise FormatError(f"unreadable TIFF: {exc}") from None


def _pillow_decode(data: bytes) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            im.seek(0)
            if im.width * im.height > _MAX_PIXELS:  # before load(): Pillow allocates the whole page first
                raise FormatError(f"TIFF page of {im.width}x{im.height} pixels, over the {_MAX_PIXELS:,}-pixel cap")
            return _grey(im)
    except _pillow_errors() as exc:
        raise FormatError(f"unreadable TIFF: {exc}") from None


def _grey(im) -> np.ndarray:
    if im.mode == "1":
        return np.asarray(im, dtype=np.uint8) * np.uint8(255)
    if im.mode == "L":
        return np.array(im, dtype=np.uint8)
    if im.mode.startswith(("I", "F")):  # 16/32-bit integer or float: stretch to 0..255
        a = np.asarray(im, dtype=np.float64)
        lo, hi = float(a.min()), float(a.max())
        return np.zeros(a.shape, np.uint8) if hi <= lo else np.round((a - lo) * (255.0 / (hi - lo))).astype(np.uint8)
    return np.array(im.convert("L"), dtype=np.uint8)
