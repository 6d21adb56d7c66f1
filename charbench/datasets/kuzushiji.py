"""Kuzushiji characters cropped from page scans: the Kaggle "Kuzushiji Recognition" set and the CODH books.

Homepages: www.kaggle.com/c/kuzushiji-recognition and codh.rois.ac.jp/char-shape/ (日本古典籍くずし字データセット).
License: CC BY-SA 4.0 (ROIS-DS Center for Open Data in the Humanities / National Institute of Japanese Literature).
Citation: Clanuwat, Bober-Irizar, Kitamoto, Lamb, Yamamoto, Ha (2018), "Deep Learning for Classical Japanese
Literature", arXiv:1812.01718; Kuzushiji Dataset (CODH, NIJL), doi:10.20676/00000340.

Raw formats (``--source`` is a folder or an archive; zips inside a folder are searched too):

* Kaggle: ``train.csv`` (``image_id,labels``; labels = ``U+XXXX x y w h ...``, possibly empty),
  ``unicode_translation.csv`` (``Unicode,char``) and page JPEGs ``train_images/<image_id>.jpg``.
* CODH per book: ``<book>/<book>_coordinate.csv`` (``Unicode,Image,X,Y,Block ID,Char ID,Width,Height``) and page
  JPEGs ``<book>/images/<Image>.jpg``; a ``unicode_translation.csv`` found beside them is applied too.

One example per character box. Labels are codepoints (class name = the character, sorted by codepoint); codepoints
missing from the translation table are dropped and counted. Groups: ``page`` (image id) and ``book`` (the part of the
image id before the first ``_`` or ``-``); splits are by page unless ``--group-by book``, so no page (or book) feeds
two splits. ``source_ids`` number every box of the label files in file order: train.csv rows (or the coordinate CSVs
in path order, then their rows) and boxes within a labels string, skipped boxes included, so an id stays the same
whatever is skipped. Boxes partly outside their page are clipped; boxes wholly outside, of zero area, with a codepoint
that is not ``U+`` hex, on a missing page or in an unparsable labels string are skipped and counted (``--strict``
turns them into an error).

Default binarisation is Otsu on each crop, chosen by measurement against ink bleeding through from the reverse page:
on synthetic pages with a mirrored bleed layer at 30% of ink contrast (charbench.synth.pages, 150 px crops), Otsu
output matches the bleed-free page at IoU 0.998, Sauvola (window 25, k 0.2) at 0.52, since a local threshold turns
bleed strokes far from real ink into ink; on the real pages Sauvola's 25 px window also hollows out 15-20 px strokes.
"""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath

import numpy as np

from charbench.datasets.base import Catalog, ClassInfo, Converter, Defaults, register_dataset
from charbench.errors import FormatError, OptionError, RawDataNotFoundError
from charbench.io import page_crops as pc
from charbench.kernels.ragged import Ragged
from charbench.targets import Target

log = logging.getLogger(__name__)
_CAPSTONE = ("github.com/stlanier/Flatiron-School-Capstone-Project README.md, results table (683,484 crops of the "
             "Kaggle set)")

_PAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
_STATUS_REASONS = {pc.BOX_EMPTY: "box of zero area (boxes)", pc.BOX_OUTSIDE: "box wholly outside its page (boxes)"}
# Problems that are not failures under --strict: a documented property of the published data.
_LENIENT = ("codepoint not in unicode_translation.csv (boxes)",)


@register_dataset("kuzushiji")
class Kuzushiji(Converter):
    """Character crops from Kuzushiji page scans (Kaggle or CODH layout), about 4,200 classes on the Kaggle set."""

    defaults = Defaults(size=32, binarize="otsu", center="mass", split="group", group_by="page")
    options = {"layout": "auto", "decode_scale": "auto"}
    # A crop is about 100-200 px square, so 10k crops (one shard) hold a few hundred MB of pixels per worker.
    default_shard_size = 10_000
    load_batch = None  # load() decodes each page once for all its crops in the call
    reference_models = ("kuzushiji_cnn", "resnet18")
    targets = (
        Target("kuzushiji_cnn", 95.0, _CAPSTONE + ": 'Baseline' CNN, 0.95",
               "513 most frequent classes (90% of the crops) plus one 'rare' class, 80x80 grey crops; four conv "
               "blocks 32-64-128-256 with BatchNorm; the README does not state its split (a random split of crops "
               "is assumed, so crops of one page can be on both sides)", split="random"),
        Target("resnet18", 85.0, _CAPSTONE + ": 'ResNet152V2', 0.85",
               "as the baseline; an ImageNet-pretrained ResNet152V2 with its last layers fine-tuned (no figure for a "
               "ResNet trained from scratch on these crops was found)", split="random"),
    )

    def scan(self) -> Catalog:
        if self.opts["layout"] not in ("auto", "kaggle", "codh"):
            raise OptionError(f"kuzushiji: layout must be auto, kaggle or codh; got {self.opts['layout']!r}")
        if str(self.opts["decode_scale"]) not in ("auto", *map(str, pc.DECODE_SCALES)):
            raise OptionError(f"kuzushiji: decode_scale must be auto, 1, 2, 4 or 8; got {self.opts['decode_scale']!r}")
        self._out_size: int | None = None
        self._files = self.open_source()
        self._used: set[str] = set()
        layout, table, translation = self._read_labels()
        locations = self._locate_pages(table.pages)
        problems = list(table.problems)
        keep, boxes = self._check_boxes(table, locations, translation, problems)
        return self._catalog(layout, table, keep, boxes, translation, locations, problems)

    # -- scan helpers ------------------------------------------------------------------------------------------------

    def roles(self) -> tuple[str, ...]:
        return ("train_labels", "class_table")

    def _named(self, role: str) -> list[str]:
        """Every file of the source named as the manifest names the file of ``role``."""
        names = set(self.file_names(role))
        return [rel for rel in self._files.files if PurePosixPath(rel).name in names]

    def _read_labels(self) -> tuple[str, pc.BoxTable, dict[int, str] | None]:
        layout = self.opts["layout"]
        kaggle = self._named("train_labels")
        codh = self._files.find("*_coordinate*.csv")
        if layout == "auto":
            layout = "kaggle" if kaggle else "codh" if codh else ""
        translation_files = self._named("class_table")
        if layout == "kaggle" and kaggle:
            if not translation_files:
                raise RawDataNotFoundError(
                    f"no unicode_translation.csv in {self.source}; it comes with train.csv in "
                    "the Kaggle download (charbench fetch kuzushiji)"
                )
            return layout, self._parse(kaggle, pc.read_kaggle_labels), self._translation(translation_files)
        if layout == "codh" and codh:
            translation = self._translation(translation_files) if translation_files else None
            tables = [pc.read_codh_coordinates(self._text(loc), self._files.describe(loc)) for loc in codh]
            self._used.update(codh)
            return layout, pc.concat_tables(tables), translation
        raise RawDataNotFoundError(
            f"no Kuzushiji labels in {self.source}: expected train.csv + unicode_translation.csv + train_images/ "
            "(Kaggle layout) or <book>/<book>_coordinate.csv + <book>/images/ (CODH layout)"
        )

    def _parse(self, locs: list[str], reader) -> pc.BoxTable:
        if len(locs) > 1:
            listing = ", ".join(self._files.describe(loc) for loc in locs[:4])
            raise FormatError(f"several train.csv files in {self.source} ({listing}); point --source at one")
        self._used.add(locs[0])
        return reader(self._text(locs[0]), self._files.describe(locs[0]))

    def _translation(self, locs: list[str]) -> dict[int, str]:
        self._used.add(locs[0])
        return pc.read_translation(self._text(locs[0]), self._files.describe(locs[0]))

    def _text(self, loc: str) -> str:
        try:
            return self._files.read(loc).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FormatError(f"{self._files.describe(loc)} is not UTF-8 text: {exc}") from None

    def _locate_pages(self, image_ids: list[str]) -> dict[str, str]:
        """Page image of every id, found by file name anywhere in the source (an ``images`` folder preferred)."""
        wanted = set(image_ids)
        found: dict[str, tuple[int, str]] = {}
        for loc in self._files.files:
            p = PurePosixPath(loc)
            if p.suffix.lower() not in _PAGE_SUFFIXES or p.stem not in wanted:
                continue
            rank = 0 if {"train_images", "images"} & set(p.parts) else 1
            if p.stem not in found or rank < found[p.stem][0]:
                found[p.stem] = (rank, loc)
        return {k: loc for k, (_, loc) in found.items()}

    def _check_boxes(
        self, table: pc.BoxTable, locations: dict, translation: dict[int, str] | None, problems: list
    ) -> tuple[np.ndarray, np.ndarray]:
        """Which boxes to keep and their clipped (x0, y0, x1, y1); every box left out becomes a problem."""
        n = len(table)
        boxes = np.zeros((n, 4), np.int32)
        self._page_hw = np.zeros((len(table.pages), 2), np.int64)
        status = np.full(n, -1, np.int8)  # -1: the page itself is missing or unreadable (reported per page)
        order = np.argsort(table.page, kind="stable")
        for rows in np.split(order, np.flatnonzero(np.diff(table.page[order])) + 1) if n else []:
            size = self._page_size(table.pages[table.page[rows[0]]], locations, len(rows), problems)
            if size is not None:
                boxes[rows], status[rows] = pc.clip_boxes(table.xywh[rows], *size)
                self._page_hw[table.page[rows[0]]] = size
        self._clipped = int((status == pc.BOX_CLIPPED).sum())
        on_page = (status == pc.BOX_OK) | (status == pc.BOX_CLIPPED)
        bad_code = on_page & (table.codepoints < 0)
        known = np.isin(table.codepoints, np.fromiter(translation, np.int64)) if translation is not None else True
        untranslated = on_page & ~bad_code & ~known
        reasons = {
            **{r: (status == s) for s, r in _STATUS_REASONS.items()},
            "codepoint not U+ hex (boxes)": bad_code,
            _LENIENT[0]: untranslated,
        }
        flagged = sorted((int(r), reason) for reason, mask in reasons.items() for r in np.flatnonzero(mask))
        for r, reason in flagged:
            code, (x, y, w, h) = table.codes[r], table.xywh[r].tolist()
            what = reason.removesuffix(" (boxes)")
            problems.append((reason, f"{table.pages[table.page[r]]}: {what}: {code} {x} {y} {w} {h} (source id {r})"))
        return on_page & ~bad_code & ~untranslated, boxes

    def _page_size(self, image_id: str, locations: dict, n_boxes: int, problems: list) -> tuple[int, int] | None:
        loc = locations.get(image_id)
        if loc is None:
            message = f"{image_id}: no page image {image_id}.jpg in {self.source} ({n_boxes} boxes)"
            problems.append(("boxes on a missing page image (boxes)", message))
            return None
        try:
            try:  # the header is enough; most JPEGs carry it in the first few KiB
                size = pc.page_size(self._files.head(loc, 1 << 16), self._files.describe(loc))
            except FormatError:
                size = pc.page_size(self._files.read(loc), self._files.describe(loc))
        except FormatError as exc:
            problems.append(("boxes on an unreadable page image (boxes)", f"{image_id}: {exc} ({n_boxes} boxes)"))
            return None
        self._used.add(loc)
        return size

    def _catalog(
        self,
        layout: str,
        table: pc.BoxTable,
        keep: np.ndarray,
        boxes: np.ndarray,
        translation,
        locations: dict,
        problems: list,
    ) -> Catalog:
        for reason, message in problems:
            self.skips.add(reason, message, fatal=reason not in _LENIENT)
        rows = np.flatnonzero(keep)
        rows = rows[np.argsort(table.page[rows], kind="stable")]  # page-major, so a shard touches few pages
        codepoints = np.unique(table.codepoints[rows])
        classes = [
            ClassInfo(translation.get(int(cp), chr(cp)) if translation else chr(cp), int(cp)) for cp in codepoints
        ]
        books = [pc.book_of(p) for p in table.pages]
        book_names = list(dict.fromkeys(books))
        book_ids = np.array([book_names.index(b) for b in books], np.int32)
        self._keep_rows(table, rows, boxes, locations)
        notes = {
            "layout": layout,
            "clipped_boxes": self._clipped,
            "pages": table.pages,
            "books": book_names,
            "pages_without_boxes": int(len(table.pages) - len(np.unique(table.page))),
            "source_ids": "box number in the label files (file order, then box order), skipped boxes included",
        }
        return Catalog(
            labels=np.searchsorted(codepoints, table.codepoints[rows]).astype(np.int32),
            source_ids=rows.astype(np.int64),
            classes=classes,
            groups={"page": self._row_page.astype(np.int32), "book": book_ids[self._row_page]},
            notes=notes,
        )

    def _keep_rows(self, table: pc.BoxTable, rows: np.ndarray, boxes: np.ndarray, locations: dict) -> None:
        """What load needs of the kept rows: their page, their box, and per page its file and smallest box side."""
        self._row_page = table.page[rows]
        self._boxes = boxes[rows]
        self._page_locs = [locations.get(p) for p in table.pages]
        self._page_names = table.pages
        sides = np.maximum(self._boxes[:, 2] - self._boxes[:, 0], self._boxes[:, 3] - self._boxes[:, 1])
        self._page_min_side = np.full(len(table.pages), np.iinfo(np.int32).max, np.int64)
        np.minimum.at(self._page_min_side, self._row_page, sides)

    # -- pixels --------------------------------------------------------------------------------------------------

    def set_output_size(self, size: int) -> bool:
        """Remember the output size, which bounds how coarsely pages may be decoded; crops still need normalising."""
        self._out_size = int(size)
        return False

    def page_scales(self) -> np.ndarray:
        """Decode scale of every page: ``decode_scale``, or with ``auto`` the coarsest JPEG scale (1, 2, 4, 8) that
        keeps every crop of the page at least as large as the output (so normalising only shrinks crops)."""
        option = str(self.opts["decode_scale"])
        if option != "auto":
            return np.full(len(self._page_names), int(option), np.int64)
        if self._out_size is None:
            return np.ones(len(self._page_names), np.int64)
        return np.array([pc.choose_scale(int(m), self._out_size) for m in self._page_min_side], np.int64)

    def load(self, rows: np.ndarray) -> Ragged:
        """Crops of catalog ``rows`` (in that order); each page is decoded once per call, at its decode scale."""
        rows = np.asarray(rows, np.int64)
        pages = self._row_page[rows]
        scales = self.page_scales()[pages]
        hw = self._page_hw[pages]
        boxes = pc.scale_boxes(self._boxes[rows], scales, hw[:, 0], hw[:, 1])
        sizes = pc.crop_sizes(boxes)
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if len(rows) else sizes
        flat = np.empty(int(sizes.sum()), np.uint8)
        order = np.argsort(pages, kind="stable")
        for part in np.split(order, np.flatnonzero(np.diff(pages[order])) + 1) if len(order) else []:
            page = self._decode(int(pages[part[0]]), int(scales[part[0]]))
            pc.crop_into(page, boxes[part], flat, offsets[part])
        shapes = np.stack([boxes[:, 3] - boxes[:, 1], boxes[:, 2] - boxes[:, 0]], axis=1).astype(np.int64)
        return Ragged(flat, offsets, shapes.reshape(-1, 2))

    def _decode(self, page: int, scale: int) -> np.ndarray:
        loc = self._page_locs[page]
        name = f"{self._files.describe(loc)} (image id {self._page_names[page]})"
        img = pc.decode_page(self._files.read(loc), name, scale)
        expected = tuple(-(-self._page_hw[page] // scale))
        if img.shape != expected:
            raise FormatError(
                f"page image {name} decodes to {img.shape[1]}x{img.shape[0]} pixels at scale 1/{scale}; "
                f"its header said {expected[1]}x{expected[0]} (was it replaced after the scan?)"
            )
        return img

    def source_files(self) -> list[str]:
        return sorted(self._files.file_paths(self._used))

    def write_synthetic(self, root: Path) -> Path:
        from charbench.synth.pages import write_kaggle_pages

        write_kaggle_pages(root, num_pages=8, num_books=3)
        return Path(root)

    def close(self) -> None:
        if getattr(self, "_files", None) is not None:
            self._files.close()
