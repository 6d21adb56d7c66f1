"""Character boxes on page images: Kaggle ``train.csv`` label strings, CODH coordinate CSVs, clipping and cropping.

Two box formats describe the same pages (the Kaggle "Kuzushiji Recognition" set was made from the CODH books):

* Kaggle ``train.csv``: ``image_id,labels`` with ``labels`` = ``U+XXXX x y w h U+YYYY x y w h ...`` (may be empty).
* CODH ``<book>_coordinate.csv``: ``Unicode,Image,X,Y,Block ID,Char ID,Width,Height``, one box per row.

Both are read into a :class:`BoxTable` whose row order is the file order (CSV rows, then boxes within a label
string); a box's position in that table is its stable source id. Nothing here decodes more than a page header
until :func:`crop_pages` is asked for pixels, and then each page is decoded once.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import cv2
import numpy as np

from charbench.errors import FormatError

_CODEPOINT = re.compile(r"U\+([0-9A-Fa-f]{4,6})")
_BOOK_SEP = re.compile(r"[_-]")
_CODH_COLUMNS = ("Unicode", "Image", "X", "Y", "Width", "Height")

_MAX_COORD = 2**31  # page pixels: anything larger is not a coordinate (and would overflow int64 sums)
MAX_PAGE_PIXELS = 1 << 28  # 268 MP: ~25x a Kaggle page; decode_page refuses larger headers before allocating

# Box status codes of clip_boxes.
BOX_OK, BOX_CLIPPED, BOX_EMPTY, BOX_OUTSIDE = 0, 1, 2, 3


@dataclass
class BoxTable:
    """Every box of a source in file order, with the problems met while parsing.

    Attributes:
        pages: image ids, in order of first appearance (pages without boxes included).
        page: int32 [n], each box's index into ``pages``.
        codes: the raw codepoint token of each box (``U+3042``), kept for messages.
        codepoints: int64 [n], the parsed codepoint, -1 where the token is not ``U+`` hex.
        xywh: int64 [n, 4], left, top, width, height in page pixels as written.
        problems: ``(reason, message)`` for inputs that yielded no boxes (an unparsable labels string ...).
    """

    pages: list[str] = field(default_factory=list)
    page: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    codes: list[str] = field(default_factory=list)
    codepoints: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    xywh: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.int64))
    problems: list[tuple[str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.page)


class _Builder:
    def __init__(self) -> None:
        self.pages: dict[str, int] = {}
        self.page: list[int] = []
        self.codes: list[str] = []
        self.xywh: list[tuple[int, int, int, int]] = []
        self.problems: list[tuple[str, str]] = []

    def page_index(self, image_id: str) -> int:
        return self.pages.setdefault(image_id, len(self.pages))

    def add(self, image_id: str, code: str, xywh: tuple[int, int, int, int]) -> None:
        self.page.append(self.page_index(image_id))
        self.codes.append(code)
        self.xywh.append(xywh)

    def build(self) -> BoxTable:
        return BoxTable(
            pages=list(self.pages),
            page=np.asarray(self.page, np.int32),
            codes=self.codes,
            codepoints=np.array([parse_codepoint(c) for c in self.codes], np.int64),
            xywh=np.asarray(self.xywh, np.int64).reshape(-1, 4),
            problems=self.problems,
        )


def parse_codepoint(token: str) -> int:
    """``"U+3042"`` -> 0x3042; -1 for anything that is not ``U+`` followed by 4-6 hex digits of a valid codepoint."""
    m = _CODEPOINT.fullmatch(token.strip())
    if m is None:
        return -1
    value = int(m.group(1), 16)
    return value if value <= 0x10FFFF else -1


def book_of(image_id: str) -> str:
    """The book id of a page id: the part before the first ``_`` or ``-`` (``100241706_00004_2`` -> ``100241706``)."""
    return _BOOK_SEP.split(image_id, maxsplit=1)[0]


def parse_label_string(labels: str) -> list[tuple[str, tuple[int, int, int, int]]]:
    """Split a Kaggle labels string into ``(code, (x, y, w, h))`` boxes; an empty string has none.

    Raises:
        FormatError: the token count is not a multiple of 5, or a coordinate is not an integer.
    """
    tokens = labels.split()
    if len(tokens) % 5:
        raise FormatError(f"{len(tokens)} tokens, not groups of 5 (U+XXXX x y w h)")
    out = []
    for i in range(0, len(tokens), 5):
        try:
            xywh = tuple(int(t) for t in tokens[i + 1 : i + 5])
        except ValueError:
            raise FormatError(f"box {i // 5} has a non-integer coordinate in {' '.join(tokens[i : i + 5])!r}") from None
        if any(abs(v) >= _MAX_COORD for v in xywh):
            raise FormatError(f"box {i // 5} has a coordinate out of range in {' '.join(tokens[i : i + 5])!r}")
        out.append((tokens[i], xywh))
    return out


def _rows(text: str, name: str, required: tuple[str, ...]):
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        have = [h.strip() for h in reader.fieldnames or []]
    except csv.Error as exc:
        raise FormatError(f"{name} line 1: not a CSV header ({exc})") from None
    missing = [c for c in required if c not in have]
    if missing:
        raise FormatError(
            f"{name}: expected columns {', '.join(required)}; missing {', '.join(missing)} "
            f"(header is {', '.join(have) or 'empty'})"
        )
    reader.fieldnames = have
    return _checked(reader, name)


def _checked(reader: csv.DictReader, name: str):
    # csv.Error: a field over the size limit, a stray quote ...: the file's problem, said with its line
    try:
        yield from reader
    except csv.Error as exc:
        raise FormatError(f"{name} line {reader.line_num}: unreadable CSV ({exc})") from None


def read_kaggle_labels(text: str, name: str = "train.csv") -> BoxTable:
    """Boxes of a Kaggle ``train.csv`` (``image_id,labels``); bad rows become problems naming the image id."""
    b = _Builder()
    for line, row in enumerate(_rows(text, name, ("image_id", "labels")), start=2):
        image_id = (row["image_id"] or "").strip()
        if not image_id:
            b.problems.append(("unparsable labels string (pages)", f"{name} line {line}: empty image_id"))
            continue
        if image_id in b.pages:
            b.problems.append(("duplicate image_id row (pages)", f"{image_id}: second row at {name} line {line}"))
            continue
        b.page_index(image_id)
        try:
            boxes = parse_label_string(row["labels"] or "")
        except FormatError as exc:
            b.problems.append(("unparsable labels string (pages)", f"{image_id}: {exc} ({name} line {line})"))
            continue
        for code, xywh in boxes:
            b.add(image_id, code, xywh)
    return b.build()


def read_codh_coordinates(text: str, name: str) -> BoxTable:
    """Boxes of a CODH ``<book>_coordinate.csv`` (``Unicode,Image,X,Y,Block ID,Char ID,Width,Height``)."""
    b = _Builder()
    for line, row in enumerate(_rows(text, name, _CODH_COLUMNS), start=2):
        image_id = (row["Image"] or "").strip()
        try:
            xywh = tuple(int(row[c]) for c in ("X", "Y", "Width", "Height"))
            if any(abs(v) >= _MAX_COORD for v in xywh):
                raise ValueError("coordinate out of range")
        except (TypeError, ValueError):
            b.problems.append(("unparsable coordinate row (boxes)", f"{image_id or '?'}: {name} line {line}"))
            continue
        if not image_id:
            b.problems.append(("unparsable coordinate row (boxes)", f"{name} line {line}: empty Image"))
            continue
        b.add(image_id, (row["Unicode"] or "").strip(), xywh)
    return b.build()


def concat_tables(tables: list[BoxTable]) -> BoxTable:
    """One table of several (one CODH CSV per book), pages merged by id, row order kept."""
    b = _Builder()
    for t in tables:
        for i, code in enumerate(t.codes):
            b.add(t.pages[t.page[i]], code, tuple(int(v) for v in t.xywh[i]))
        for p in t.pages:
            b.page_index(p)
        b.problems += t.problems
    return b.build()


def read_translation(text: str, name: str = "unicode_translation.csv") -> dict[int, str]:
    """The Kaggle ``unicode_translation.csv`` (``Unicode,char``) as codepoint -> character.

    Raises:
        FormatError: a missing column, or a row whose codepoint is not ``U+`` hex.
    """
    table = {}
    for line, row in enumerate(_rows(text, name, ("Unicode", "char")), start=2):
        cp = parse_codepoint(row["Unicode"] or "")
        if cp < 0:
            raise FormatError(f"{name} line {line}: codepoint {row['Unicode']!r} is not U+ followed by hex digits")
        table[cp] = row["char"] or chr(cp)
    return table


def clip_boxes(xywh: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Clip ``(x, y, w, h)`` boxes to a ``height`` x ``width`` page.

    Returns:
        ``(x0, y0, x1, y1)`` int32 [n, 4] after clipping, and a status int8 [n]: BOX_OK, BOX_CLIPPED,
        BOX_EMPTY (width or height <= 0 as written) or BOX_OUTSIDE (nothing of it lies on the page).
    """
    xywh = np.asarray(xywh, np.int64).reshape(-1, 4)
    x0, y0 = xywh[:, 0], xywh[:, 1]
    x1, y1 = x0 + xywh[:, 2], y0 + xywh[:, 3]
    cx0, cy0 = np.clip(x0, 0, width), np.clip(y0, 0, height)
    cx1, cy1 = np.clip(x1, 0, width), np.clip(y1, 0, height)
    status = np.full(len(xywh), BOX_OK, np.int8)
    status[(cx0 != x0) | (cy0 != y0) | (cx1 != x1) | (cy1 != y1)] = BOX_CLIPPED
    status[(cx1 <= cx0) | (cy1 <= cy0)] = BOX_OUTSIDE
    status[(xywh[:, 2] <= 0) | (xywh[:, 3] <= 0)] = BOX_EMPTY
    return np.stack([cx0, cy0, cx1, cy1], axis=1).astype(np.int32), status


def page_size(data: bytes, name: str) -> tuple[int, int]:
    """``(height, width)`` of an encoded page from its header only (no pixel decoding).

    Raises:
        FormatError: the bytes are not an image Pillow recognises.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            return int(im.height), int(im.width)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise FormatError(f"page image {name} is not a readable image: {exc}") from None


_DECODE_FLAGS = {
    1: cv2.IMREAD_GRAYSCALE,
    2: cv2.IMREAD_REDUCED_GRAYSCALE_2,
    4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
    8: cv2.IMREAD_REDUCED_GRAYSCALE_8,
}
DECODE_SCALES = tuple(_DECODE_FLAGS)


def decode_page(data: bytes, name: str, scale: int = 1) -> np.ndarray:
    """A page as grey uint8 [H, W], or [ceil(H / scale), ceil(W / scale)] decoded at a reduced JPEG scale.

    A reduced scale uses the JPEG decoder's own DCT downscaling (an area average, at a fraction of the cost of a
    full decode). EXIF orientation is ignored so boxes keep the stored pixel frame.

    Raises:
        FormatError: the bytes cannot be decoded.
    """
    height, width = _header_size(data, name)
    if height * width > MAX_PAGE_PIXELS:  # OpenCV allocates the whole page from the header before decoding
        raise FormatError(f"page image {name} claims {width}x{height} pixels, over the {MAX_PAGE_PIXELS:,} cap")
    buf = np.frombuffer(data, np.uint8)
    try:
        page = cv2.imdecode(buf, _DECODE_FLAGS[scale] | cv2.IMREAD_IGNORE_ORIENTATION) if len(buf) else None
    except cv2.error as exc:
        raise FormatError(f"page image {name} cannot be decoded ({exc.err})") from None
    if page is None:
        raise FormatError(f"page image {name} cannot be decoded (truncated or not an image)")
    return page


def _header_size(data: bytes, name: str) -> tuple[int, int]:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            return int(im.height), int(im.width)
    except Image.DecompressionBombError:
        return 1 << 20, 1 << 20  # over the cap
    except Exception:  # noqa: BLE001 - a header Pillow cannot read: OpenCV decides (and fails) on its own
        return 0, 0


def choose_scale(min_side: int, size: int, max_scale: int = 8) -> int:
    """The coarsest decode scale that keeps a crop whose longer side is ``min_side`` at ``size`` pixels or more.

    Normalisation then only ever shrinks crops, as it would from the full-resolution page.
    """
    return max((s for s in DECODE_SCALES if s <= max_scale and min_side >= s * size), default=1)


def scale_boxes(boxes: np.ndarray, scale, height, width) -> np.ndarray:
    """``(x0, y0, x1, y1)`` page boxes in the pixel frame of pages decoded at ``scale``.

    ``scale``, ``height`` and ``width`` (the full-resolution page size) are scalars or one value per box. Edges round
    outwards and every box keeps at least one pixel; at scale 1 the boxes come back unchanged.
    """
    b = np.asarray(boxes, np.int64).reshape(-1, 4)
    s = np.asarray(scale, np.int64)
    h, w = -(-np.asarray(height, np.int64) // s), -(-np.asarray(width, np.int64) // s)
    x0, y0 = np.minimum(b[:, 0] // s, w - 1), np.minimum(b[:, 1] // s, h - 1)
    x1, y1 = np.clip(-(-b[:, 2] // s), x0 + 1, w), np.clip(-(-b[:, 3] // s), y0 + 1, h)
    return np.stack([x0, y0, x1, y1], axis=1).astype(np.int32)


def crop_sizes(boxes: np.ndarray) -> np.ndarray:
    """Pixel counts of ``(x0, y0, x1, y1)`` boxes, as int64."""
    b = np.asarray(boxes, np.int64)
    return (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])


def crop_into(page: np.ndarray, boxes: np.ndarray, flat: np.ndarray, offsets: np.ndarray) -> None:
    """Copy each ``(x0, y0, x1, y1)`` crop of ``page`` into ``flat[offsets[i]:]`` (row-major), in place."""
    for (x0, y0, x1, y1), off in zip(boxes.tolist(), offsets.tolist()):
        h, w = y1 - y0, x1 - x0
        flat[off : off + h * w].reshape(h, w)[...] = page[y0:y1, x0:x1]
