"""HPL isolated handwritten Tamil characters (HP Labs India): 156 classes, about 500 samples each.

``charbench prepare hpl-tamil --source PATH`` (a folder, zip or tar), in either published form:

* offline TIFF renderings, ``usr_<writer>/<class:03d>t<sample:02d>.tiff`` (bi-level, black ink on white, any size),
  also flattened as ``154t05.usr_26.tiff`` or loose as ``154t05.tiff`` (writer unknown, group -1);
* online UNIPEN pen data as the Lipi Toolkit ships it, ``usr_<writer>/<class>t<sample>.txt`` (see ``unipen``).

``--from images|strokes`` picks one when a source holds both. macOS ``._*`` AppleDouble files, ``.DS_Store`` and
``__MACOSX/`` are skipped and counted. A folder named train/test (``test_data``) marks the published split.

Homepage: lipitk.sourceforge.net/hpl-datasets.htm (hpl-tamil-iso-char-offline / -online).
License: free for research use under HP Labs India's terms (see the homepage); not for redistribution.
Citation: HP Labs India, Isolated Handwritten Tamil Character Dataset (hpl-tamil-iso-char), used in the
IWFHR 2006 Tamil character recognition competition.
Raw format: TIFF (1-bit or 8-bit, any compression Pillow reads) or UNIPEN text, one character per file.

Class table: ids 000-155 (the label is the HPL id); a ``<id> <chars or 0xXXXX codes>`` map file in the source
names them with their Tamil Unicode strings, otherwise names stay numeric. ``source_id`` of a TIFF is its
position among the source's TIFF files sorted by path; of a UNIPEN sample, as in the ``unipen`` converter.

TIFF headers are checked at scan, on several processes for large sources (compressed pages are decoded there too,
since only decoding checks them):
zero-byte or unreadable files, names that do not follow the pattern and class ids above 155 are skipped and
counted (``--strict``: fatal). Pen-data options are the ``unipen`` converter's (``--keep-bad``, ``-O y_axis``,
``-O pen_width``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from charbench.datasets.base import Catalog, ClassInfo, Defaults, Skips, register_dataset
from charbench.datasets.unipen import (
    TEXT_SUFFIXES,
    FileSourceConverter,
    UnipenSource,
    published_split,
    side_tables,
    split_code,
    unipen_options,
)
from charbench.errors import FormatError, OptionError, RawDataNotFoundError
from charbench.io import unipen as up
from charbench.io.source import RawSource, file_digest
from charbench.io.tiff import TIFF_SUFFIXES, decode_tiff, parse_hpl_name, tiff_size
from charbench.kernels.ragged import Ragged
from charbench.pool import process_map
from charbench.targets import Target

NUM_CLASSES = 156
BAD_NAME = "TIFF names not like 154t05.tiff, 154t05.usr_26.tiff or usr_26/154t05.tiff"
EMPTY = "zero-byte TIFF files"
UNREADABLE = "unreadable TIFF files"
OUT_OF_RANGE = f"class ids outside 000-{NUM_CLASSES - 1:03d}"
COPIES = "samples found again under another path (class, writer and sample number already read)"
_MODALITIES = {
    "auto": "auto",
    "images": "images",
    "image": "images",
    "offline": "images",
    "tiff": "images",
    "strokes": "strokes",
    "stroke": "strokes",
    "online": "strokes",
    "unipen": "strokes",
}


def class_table(unicode: dict[int, str]) -> list[ClassInfo]:
    """The 156 HPL classes, named by the source's map where it has them (codepoint when one character)."""
    out = []
    for i in range(NUM_CLASSES):
        name = unicode.get(i, f"{i:03d}")
        out.append(ClassInfo(name, ord(name) if i in unicode and len(name) == 1 else -1))
    return out


def hpl_classes(labels: list[str], unicode: dict[int, str]) -> tuple[list[ClassInfo], np.ndarray]:
    """Labels (HPL ids, or Tamil strings a segment carries) as indices into the 156-class table; -1 outside it."""
    by_text = {text: i for i, text in unicode.items() if i < NUM_CLASSES}
    index = [int(lab) if lab.isdigit() and int(lab) < NUM_CLASSES else by_text.get(lab, -1) for lab in labels]
    return class_table(unicode), np.array(index, dtype=np.int32)


SCAN_CHUNK = 1000  # TIFFs per task of a parallel scan


def check_tiffs(reader: RawSource, rels: list[str]) -> list[tuple]:
    """Per file ``(label, writer, sample, shape, error, digest)``: the name, and the header check (and decode of compressed
    pages) that decides whether a TIFF is used, with the digest index.json records, from one read of the file.
    A name that does not follow the pattern, or a class id outside the table, gives ``(label or None, ...)`` with
    no read and no digest. Plain tuples: they cross from the scan's worker processes."""
    out = []
    for rel in rels:
        name = parse_hpl_name(rel)
        if name is None or name.label >= NUM_CLASSES:
            out.append((name and name.label, -1, -1, None, BAD_NAME if name is None else OUT_OF_RANGE, None))
            continue
        data = reader.read(rel)
        digest = file_digest(data)
        try:
            out.append((name.label, name.writer, name.sample, tiff_size(data, verify=True), None, digest))
        except FormatError as exc:
            out.append((name.label, name.writer, name.sample, None, str(exc), digest))
    return out


class TiffTree:
    """The offline form: HPL-named TIFFs of a folder or archive, decoded one shard at a time."""

    def __init__(self, skips: Skips):
        self.skips = skips
        self.files: list[str] = []
        self.reader: RawSource | None = None

    def scan(self, source: RawSource, tiffs: list[str], unicode: dict[int, str], workers: int = 1) -> Catalog:
        self.files, self.reader = tiffs, source
        ids, labels, writers, shapes, splits = [], [], [], set(), []
        first: dict[tuple[int, int, int], int] = {}  # (class, writer, sample) -> position in ids
        for i, (label, writer, sample, shape, error, digest) in enumerate(self._check(tiffs, workers)):
            rel = tiffs[i]
            if digest is None:
                self.skips.add(error, rel)
                continue
            self.reader.remember(rel, digest)
            if error is not None:
                self.skips.add(UNREADABLE if digest[0] else EMPTY, f"{rel}: {error}" if digest[0] else rel)
                continue
            code = split_code(rel)
            if writer >= 0 and (label, writer, sample) in first:
                # the same sample in another copy of the set (the combined tarball beside the train/test ones):
                # read once, on the test side if any copy is marked test
                k = first[label, writer, sample]
                splits[k] = max(splits[k], code, key=lambda c: -1 if c is None else c)
                self.skips.add(COPIES, rel, fatal=False)
                continue
            first[label, writer, sample] = len(ids)
            ids.append(i)
            labels.append(label)
            writers.append(writer)
            splits.append(code)
            shapes.add(shape)
        self.rows = np.array(ids, np.int64)
        square = {h for h, w in shapes if h == w}
        return Catalog(
            labels=np.array(labels, np.int32),
            source_ids=self.rows.copy(),
            classes=class_table(unicode),
            groups={"writer": np.array(writers, np.int32)},
            official=published_split(splits),
            native_size=square.pop() if len(shapes) == 1 and square else None,
            notes={
                "form": "offline TIFF",
                "tiff_files": len(tiffs),
                "source_id": "position among the TIFF files sorted by path",
            },
        )

    def _check(self, rels: list[str], workers: int) -> list[tuple]:
        """``check_tiffs`` over ``rels``, in chunks on ``workers`` processes when there are many files."""
        if workers <= 1 or len(rels) < 2 * SCAN_CHUNK:
            return check_tiffs(self.reader, rels)
        # each task carries a copy of the source that lists only its chunk: small to pickle
        chunks = [self.reader.subset(rels[k : k + SCAN_CHUNK]) for k in range(0, len(rels), SCAN_CHUNK)]
        return [r for part in process_map(_check_subset, chunks, workers) for r in part]

    def load(self, rows: np.ndarray) -> Ragged:
        images = []
        for k in self.rows[rows]:
            rel = self.files[int(k)]
            try:
                images.append(decode_tiff(self.reader.read(rel)))
            except FormatError as exc:
                raise FormatError(f"{rel}: {exc} (it passed the header check at scan; remove the file)") from None
        return Ragged.from_list(images)

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()


@register_dataset("hpl-tamil")
class HplTamil(FileSourceConverter):
    """HPL isolated Tamil characters from offline TIFFs or online UNIPEN files (``--from`` picks)."""

    # The published train/test partition where the source has one (validation carved by writer), else by writer.
    defaults = Defaults(size=64, binarize="otsu", center="mass", split="official", fallback_split="group",
                        group_by="writer")
    options = {"modality": "auto", "keep_bad": False, "label": "character", "y_axis": "auto", "pen_width": 0.06}
    reference_models = ("kuzushiji_cnn", "resnet34")
    targets = (
        Target("kuzushiji_cnn", 90.7, "github.com/nikhilamalajerrin/Tamizhi README.md: 'The final model achieved "
               "90.7% accuracy on the test set'",
               "the official IWFHR 2006 split (50,683 train / 26,926 test), 64x64 input with the character's longer "
               "side at 48 px, centre of mass; a VGG-style CNN with BatchNorm (16-16-32-32-64-64 convolutions, "
               "dense 1024-512), Adam 1e-3; no augmentation mentioned"),
        Target("resnet34", 96.7, "the fastai HPL Tamil notebook this project grew out of (ResNet-34, from_name_re "
               "over 154t05.usr_26.tiff names): 92.7% after 4 frozen epochs, 95.4% / 96.7% after fine-tuning",
               "random 80/20 split of the images (one writer's samples on both sides), ImageNet-pretrained weights, "
               "one-cycle schedule; no published figure for a ResNet on this set was found",
               split="random", kind="notebook"),
    )

    def scan(self) -> Catalog:
        source = self.open_source(remember_digests=True)
        tiffs, texts = _tiff_and_text_files(source)
        if self._form(source, tiffs, texts) == "images":
            self._src = TiffTree(self.skips)
            catalog = self._src.scan(source, tiffs, _unicode_map(source, texts), self.workers)
        else:
            self._src = unipen_options(self.opts, self.skips)
            catalog = self._src.scan(source, hpl_classes)
        writer = catalog.groups.pop("writer", np.full(len(catalog), -1, np.int32))
        catalog.groups = {"writer": writer, **catalog.groups}
        return catalog

    def _form(self, source: RawSource, tiffs: list[str], texts: list[str]) -> str:
        form = _MODALITIES.get(str(self.opts["modality"]).lower())
        if form is None:
            raise OptionError(f"--from takes images or strokes (or auto); got {self.opts['modality']!r}")
        if form == "auto":
            if tiffs and _has_pen_files(source, texts):
                raise OptionError(
                    f"{self.source} holds both TIFF images and UNIPEN pen files; choose one with "
                    "--from images or --from strokes"
                )
            form = "images" if tiffs else "strokes"
        if form == "images" and not tiffs:
            raise RawDataNotFoundError(f"no .tif/.tiff files in {self.source}; for pen data use --from strokes")
        return form

    def set_output_size(self, size: int) -> bool:
        if isinstance(self._src, UnipenSource):
            self._src.size = int(size)
            return True
        return False

    def write_synthetic(self, root: Path) -> Path:
        from charbench.synth.tiff import write_hpl_tiffs

        return write_hpl_tiffs(root, num_classes=6, per_class=6, num_writers=8, seed=1)


def _check_subset(part: RawSource) -> list[tuple]:
    return check_tiffs(part, part.files)


def _tiff_and_text_files(source: RawSource) -> tuple[list[str], list[str]]:
    """The source's TIFF files, and the files that may be UNIPEN or map text, in one pass over the listing."""
    tiffs, texts = [], []
    for f in source.files:
        if f.lower().endswith(TIFF_SUFFIXES):
            tiffs.append(f)
        elif os.path.splitext(f)[1].lower() in TEXT_SUFFIXES:
            texts.append(f)
    return tiffs, texts


def _has_pen_files(source: RawSource, texts: list[str]) -> bool:
    return any(up.looks_like_unipen(source.head(f)) for f in texts)


def _unicode_map(source: RawSource, texts: list[str]) -> dict[int, str]:
    """A ``<id> <chars>`` map among the source's small .txt files (the HPL release names classes this way)."""
    side = {}
    for f in texts:
        if f.lower().endswith(".txt") and not up.looks_like_unipen(source.head(f)):
            data = source.read(f)
            if len(data) < 1 << 20:
                side[f] = data
    return side_tables(side)[2]
