"""Synthetic Kuzushiji page scans in the Kaggle and CODH layouts, and Kuzushiji-Kanji PNG trees.

A page is textured paper with seeded pseudo-characters (see :mod:`charbench.synth.glyphs`) at known boxes, written
in columns from right to left, plus a faint mirrored second layer of other characters: ink bleeding through from
the reverse side, which binarisation must remove. Classes follow a Zipf-like distribution, as in the real books.
With ``bad=True`` the Kaggle writer adds one of each input problem the converter must report.
"""

from __future__ import annotations

import csv
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from charbench.io.page_crops import book_of
from charbench.synth.glyphs import GlyphGenerator

UNTRANSLATED = 0x9FA0  # a codepoint the synthetic unicode_translation.csv leaves out


def class_codepoints(num_classes: int) -> list[int]:
    """Codepoints of the synthetic classes: hiragana first, then CJK ideographs."""
    return [0x3042 + i if i < 80 else 0x4E00 + 7 * (i - 80) for i in range(num_classes)]


@dataclass
class PageSet:
    """What a writer put on disk, for tests to compare against.

    ``boxes`` rows follow the box order of the label files: ``(image_id, code, x, y, w, h, status, label)`` with
    status ``ok``, ``clipped``, ``outside``, ``empty``, ``badcode``, ``untranslated`` or ``missing_page`` and
    ``label`` the class index (-1 where none).
    """

    root: Path
    image_ids: list[str]
    boxes: list[tuple] = field(default_factory=list)
    unparsable: list[str] = field(default_factory=list)
    codepoints: list[int] = field(default_factory=list)

    def kept(self) -> list[tuple]:
        """The boxes a converter keeps (clipped ones included)."""
        return [b for b in self.boxes if b[6] in ("ok", "clipped")]


def _rng(*keys: int) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(str(k).encode()) for k in keys])


def _paper(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    coarse = rng.normal(0, 1, (max(2, h // 64), max(2, w // 64))).astype(np.float32)
    blotch = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC) * 8
    return np.clip(214 + blotch + rng.normal(0, 3, (h, w)), 150, 250).astype(np.float32)


def _ink(gen: GlyphGenerator, label: int, writer: int, sample: int, h: int, w: int) -> np.ndarray:
    return gen.render(label, writer, sample, shape=(h, w)).astype(np.float32) / 255.0


def _layout(h: int, w: int, cell: int, count: int, rng: np.random.Generator) -> list[tuple[int, int, int, int]]:
    """Up to ``count`` boxes in columns from the right edge, top to bottom, each a bit smaller than its cell."""
    boxes = []
    cols, rows = (w - cell) // cell, (h - cell) // cell
    for c in range(cols):
        for r in range(rows):
            if len(boxes) == count:
                return boxes
            bw, bh = (int(cell * rng.uniform(0.6, 0.95)) for _ in range(2))
            x = w - (c + 1) * cell - cell // 2 + int(rng.integers(0, cell - bw + 1))
            y = cell // 2 + r * cell + int(rng.integers(0, cell - bh + 1))
            boxes.append((x, y, bw, bh))
    return boxes


def render_page(
    gen: GlyphGenerator,
    boxes: list[tuple[int, int, int, int]],
    labels: list[int],
    *,
    writer: int,
    seed: int,
    shape: tuple[int, int],
    bleed: float = 0.3,
) -> np.ndarray:
    """A BGR page with a glyph of ``labels[i]`` inside ``boxes[i]`` and a faint mirrored bleed-through layer."""
    h, w = shape
    rng = _rng(seed, writer, h, w, len(boxes))
    paper = _paper(h, w, rng)
    front, back = np.zeros((h, w), np.float32), np.zeros((h, w), np.float32)
    for i, ((x, y, bw, bh), label) in enumerate(zip(boxes, labels)):
        _paste(front, _ink(gen, label, writer, seed * 100_003 + i, bh, bw), x, y)
    cell = max(8, int(np.median([max(b[2], b[3]) for b in boxes]) * 1.2)) if boxes else 32
    # The reverse side is a full page of other text, offset by half a cell so it runs across the front characters.
    for i, (x, y, bw, bh) in enumerate(_layout(h, w, cell, 10**6, rng)):
        other = int(rng.integers(0, gen.num_classes))
        _paste(back, _ink(gen, other, writer + 1, seed * 100_003 + i, bh, bw), x + cell // 2, y + cell // 3)
    ink_level = 40.0
    page = paper - (paper - ink_level) * np.maximum(front, bleed * back[:, ::-1])
    grey = np.clip(page, 0, 255)
    return np.stack([grey * 0.86, grey * 0.95, grey], axis=-1).round().astype(np.uint8)  # yellowed paper


def _paste(layer: np.ndarray, patch: np.ndarray, x: int, y: int) -> None:
    h, w = layer.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + patch.shape[1], w), min(y + patch.shape[0], h)
    if x1 > x0 and y1 > y0:
        region = layer[y0:y1, x0:x1]
        np.maximum(region, patch[y0 - y : y1 - y, x0 - x : x1 - x], out=region)


def _page_ids(num_pages: int, num_books: int) -> list[str]:
    # Both id styles of the Kaggle set: "100241706_00004_2" (books named by number) and "umgy001-017".
    books = [f"{200000000 + b}" if b % 2 == 0 else f"umgy{b:03d}" for b in range(num_books)]
    out = []
    for p in range(num_pages):
        book = books[p % num_books]
        out.append(f"{book}_{p:05d}_{p % 2 + 1}" if book.isdigit() else f"{book}-{p:03d}")
    return out


def _pages(
    num_classes: int,
    num_pages: int,
    boxes_per_page: int,
    num_books: int,
    zipf: float,
    seed: int,
    page_shape: tuple[int, int],
    cell: int,
    bleed: float = 0.3,
):
    """Yield (image_id, book index, boxes, labels, BGR page) for every page."""
    gen = GlyphGenerator(num_classes, seed)
    prob = 1.0 / np.arange(1, num_classes + 1) ** zipf
    rng = _rng(seed, 7)
    for p, image_id in enumerate(_page_ids(num_pages, num_books)):
        boxes = _layout(*page_shape, cell, boxes_per_page, rng)
        labels = rng.choice(num_classes, size=len(boxes), p=prob / prob.sum()).tolist()
        page = render_page(
            gen, boxes, labels, writer=p % num_books, seed=seed * 1000 + p, shape=page_shape, bleed=bleed
        )
        yield image_id, p % num_books, boxes, labels, page


def _write_jpeg(path: Path, page: np.ndarray) -> None:
    data = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, 90])[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.tobytes())


def _add_bad_boxes(page: np.ndarray, page_id: str, gen: GlyphGenerator) -> list[tuple]:
    """Boxes with every box-level problem on the first page; the clipped one gets a glyph on the page's right edge."""
    w = page.shape[1]
    page[20:45, -10:] = np.minimum(page[20:45, -10:], 255 - gen.render(0, 0, 9, shape=(25, 10))[..., None])
    return [
        (page_id, "U+3042", w - 10, 20, 30, 25, "clipped", 0),
        (page_id, "U+3042", w + 5, 5, 20, 20, "outside", -1),
        (page_id, "U+3044", 5, 5, 0, 20, "empty", -1),
        (page_id, "U+ZZ42", 10, 40, 20, 20, "badcode", -1),
        (page_id, f"U+{UNTRANSLATED:04X}", 10, 70, 20, 20, "untranslated", -1),
    ]


def write_kaggle_pages(
    root: Path,
    *,
    num_classes: int = 12,
    num_pages: int = 6,
    boxes_per_page: int = 30,
    num_books: int = 2,
    zipf: float = 1.1,
    seed: int = 0,
    bad: bool = True,
    page_shape: tuple[int, int] = (420, 300),
    cell: int = 40,
    archive: bool = False,
    bleed: float = 0.3,
) -> PageSet:
    """The Kaggle "Kuzushiji Recognition" layout in ``root``: train.csv, unicode_translation.csv, train_images/.

    Args:
        archive: put the pages in ``train_images.zip`` (as Kaggle ships them) instead of a folder.
        bleed: strength of the mirrored reverse-side layer, as a fraction of the ink's contrast (0 for none).
        bad: add a clipped box, a box wholly outside its page, a zero-area box, a non-hex codepoint, an untranslated
            codepoint (all on the first page), a row with an unparsable labels string, a row whose page image is
            missing and a page without boxes.
    """
    root = Path(root)
    cps = class_codepoints(num_classes)
    out = PageSet(root, [], codepoints=cps)
    rows = []
    images = {}
    for image_id, _, boxes, labels, page in _pages(
        num_classes, num_pages, boxes_per_page, num_books, zipf, seed, page_shape, cell, bleed
    ):
        entries = [(image_id, f"U+{cps[y]:04X}", *b, "ok", y) for b, y in zip(boxes, labels)]
        if bad and not rows:
            entries += _add_bad_boxes(page, image_id, GlyphGenerator(num_classes, seed))
        images[image_id] = page
        out.image_ids.append(image_id)
        out.boxes += entries
        rows.append((image_id, " ".join(f"{c} {x} {y} {w} {h}" for _, c, x, y, w, h, *_ in entries)))
    if bad:
        _add_bad_rows(out, rows, images)
    _write_kaggle_files(root, rows, images, cps, archive)
    return out


def _add_bad_rows(out: PageSet, rows: list, images: dict) -> None:
    """A row with an unparsable labels string, one whose page image is missing, and a page without boxes."""
    code = f"U+{out.codepoints[0]:04X}"
    rows.append(("zz_unparsable_001", "U+3042 10 20 30"))
    images["zz_unparsable_001"] = images[out.image_ids[0]]
    out.unparsable.append("zz_unparsable_001")
    rows.append(("zz_missing_002", f"{code} 10 10 20 20"))
    out.boxes.append(("zz_missing_002", code, 10, 10, 20, 20, "missing_page", -1))
    rows.append(("zz_blank_003", ""))
    images["zz_blank_003"] = images[out.image_ids[0]]


def _write_kaggle_files(root: Path, rows, images: dict, cps: list[int], archive: bool) -> None:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "train.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([("image_id", "labels"), *rows])
    with open(root / "unicode_translation.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([("Unicode", "char"), *((f"U+{cp:04X}", chr(cp)) for cp in cps)])
    if archive:
        with zipfile.ZipFile(root / "train_images.zip", "w", zipfile.ZIP_STORED) as z:
            for image_id, page in images.items():
                z.writestr(
                    zipfile.ZipInfo(f"{image_id}.jpg", (2020, 1, 1, 0, 0, 0)),
                    cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes(),
                )
    else:
        for image_id, page in images.items():
            _write_jpeg(root / "train_images" / f"{image_id}.jpg", page)


def write_codh_books(
    root: Path,
    *,
    num_classes: int = 12,
    num_pages: int = 4,
    boxes_per_page: int = 20,
    num_books: int = 2,
    zipf: float = 1.1,
    seed: int = 0,
    page_shape: tuple[int, int] = (420, 300),
    cell: int = 40,
) -> PageSet:
    """The CODH per-book layout: ``<book>/<book>_coordinate.csv`` and ``<book>/images/<page>.jpg``."""
    root = Path(root)
    cps = class_codepoints(num_classes)
    out = PageSet(root, [], codepoints=cps)
    per_book: dict[str, list] = {}
    for image_id, _, boxes, labels, page in _pages(
        num_classes, num_pages, boxes_per_page, num_books, zipf, seed, page_shape, cell
    ):
        book = book_of(image_id)
        _write_jpeg(root / book / "images" / f"{image_id}.jpg", page)
        out.image_ids.append(image_id)
        per_book.setdefault(book, []).extend((image_id, f"U+{cps[y]:04X}", *b, "ok", y) for b, y in zip(boxes, labels))
    for book, entries in per_book.items():
        with open(root / book / f"{book}_coordinate.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["Unicode", "Image", "X", "Y", "Block ID", "Char ID", "Width", "Height"])
            for k, (image_id, code, x, y, bw, bh, *_) in enumerate(entries):
                w.writerow([code, image_id, x, y, "B0001", f"C{k + 1:04d}", bw, bh])
    out.boxes = [b for book in sorted(per_book) for b in per_book[book]]
    return out


def write_kanji_tree(
    root: Path,
    *,
    num_classes: int = 10,
    per_class: int = 12,
    num_writers: int = 8,
    zipf: float = 0.0,
    seed: int = 0,
    size: int = 64,
) -> dict[int, int]:
    """A Kuzushiji-Kanji tree ``root/U+XXXX/<hex>.png`` (grey, white ink on black); returns codepoint -> count.

    With ``zipf`` > 0 class ``c`` gets about ``per_class / (c + 1) ** zipf`` images (at least one).
    """
    gen = GlyphGenerator(num_classes, seed)
    counts = {}
    for c in range(num_classes):
        cp = 0x4E00 + 11 * c
        n = max(1, round(per_class / (c + 1) ** zipf))
        folder = Path(root) / f"U+{cp:04X}"
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(n):
            img = gen.render(c, k % num_writers, k, size)
            name = f"{zlib.crc32(f'{seed}-{c}-{k}'.encode()):08x}{k:08x}.png"
            cv2.imwrite(str(folder / name), img)
        counts[cp] = n
    return counts
