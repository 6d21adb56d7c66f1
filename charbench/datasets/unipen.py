"""Any UNIPEN online-handwriting collection (digits, Latin, Indic, ...) rasterised to images.

``charbench prepare unipen --name NAME --source PATH`` (a folder, zip or tar).

Homepage: unipen.nici.ru.nl (format and the UNIPEN Train-R01/V07 data); lipitk.sourceforge.net (Lipi Toolkit data).
License: set by each collection (UNIPEN data: LDC/NICI terms; Lipi Toolkit data: MIT, see its license.txt).
Citation: Guyon, Schomaker, Plamondon, Liberman & Janet (1994). UNIPEN project of on-line data exchange and
recognizer benchmarks. ICPR'94, pp. 29-33.
Raw format: UNIPEN 1.0 text files (see :mod:`charbench.io.unipen`), either many segments per file or the Lipi
Toolkit's one character per file (``usrN/NNNNNNtSS.txt``) with list files (``<path> <label>``), map files
(``<label> <glob>``) and a unicode map (``<id> <chars>``) beside them.

Rows are (file, segment): ``source_id = file index * 100000 + segment ordinal``, where the file index is the
file's position among the source's UNIPEN files sorted by path and the ordinal counts the file's ``.SEGMENT``
statements in order (0 for a file without any). Labels come from the segment's string, else the list or map
files, else the file name. Writers come from ``.WRITER_ID`` or the ``usrN`` folder; a list file or a folder
named train/test marks the published split. Strokes are drawn straight at the output size (``pen_width`` is a
fraction of it) with the ink's centre of mass at the centre.

Options: ``--label LEVELS`` (UNIPEN hierarchy levels, comma-separated; ``character`` = CHARACTER, CHAR, DIGIT,
UPPER, LOWER, LETTER, SYMBOL, PUNCTUATION; ``word`` for words); ``--keep-bad`` keeps segments marked BAD;
``-O y_axis=auto|up|down`` (auto: UNIPEN 1.0 files are y-up, Lipi Toolkit ``NNNtSS`` files are screen coordinates,
y-down); ``-O pen_width=0.06``. A file whose only segment is a bare ``.SEGMENT`` (Lipi) is one sample whatever the
level. Bad input (malformed or unterminated blocks, ink outside every segment, missing includes, segments naming
absent components, samples without a label) is skipped and counted; ``--strict`` makes it fatal.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import numpy as np

from charbench.datasets.base import Catalog, ClassInfo, Converter, Defaults, Skips, group_ids, register_dataset
from charbench.errors import FormatError, OptionError, RawDataNotFoundError
from charbench.io import unipen as up
from charbench.io.source import TRAIN_TEST_WORDS, RawSource, split_of_folder
from charbench.shards.schema import TEST, TRAIN

SEGMENT_STRIDE = 100_000
TEXT_SUFFIXES = frozenset({".txt", ".dat", ".unp", ".pen", ".inc", ""})  # "": no extension (UNIPEN CD files)
BAD_QUALITY = "segments marked BAD (kept with --keep-bad)"
NO_LABEL = "samples without a label (no segment string, list entry or NNNtSS file name)"
_INCLUDE = re.compile(rb"^[ \t]*\.INCLUDE[ \t]+(\S+)", re.MULTILINE)

# classes(labels) -> (class table, int32 index per label, -1 where the label is not in the table)
ClassFn = Callable[[list[str], dict[int, str]], tuple[list[ClassInfo], np.ndarray]]


def split_code(rel: str) -> int | None:
    """TEST or TRAIN when a folder of ``rel`` is named train/test (``test_data``, ``Train``, ...), else None."""
    return split_of_folder(rel.rpartition("/")[0], TRAIN_TEST_WORDS)


def published_split(splits: list[int | None]) -> np.ndarray | None:
    """int8 codes of a published split (files not marked test are train), or None unless both sides exist."""
    if TEST not in splits or all(s == TEST for s in splits):
        return None
    return np.array([TEST if s == TEST else TRAIN for s in splits], np.int8)


class UnipenSource:
    """Scan and render the UNIPEN files of one source; shared by the ``unipen`` and ``hpl-tamil`` converters."""

    def __init__(self, *, levels: str, keep_bad: bool, y_axis: str, pen_width: object, skips: Skips):
        if y_axis not in ("auto", "up", "down"):
            raise OptionError(f"-O y_axis= takes auto, up or down; got {y_axis!r}")
        try:
            self.pen_width = float(pen_width)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            self.pen_width = -1.0
        if not 0 < self.pen_width < 0.5:
            raise OptionError(f"-O pen_width= is a fraction of the image side in (0, 0.5); got {pen_width!r}")
        self.keep_bad, self.y_axis, self.levels = bool(keep_bad), y_axis, _levels(levels)
        self.skips = skips
        self.size = 64
        self.files: list[str] = []
        self.reader: RawSource | None = None

    def scan(self, source: RawSource, classes: ClassFn) -> Catalog:
        """Parse every UNIPEN file of ``source`` (metadata kept, pen data dropped) into a Catalog."""
        self.reader, self._listed = source, frozenset(source.files)
        unipen_files, side, includes = discover(source, source.files)
        if not unipen_files:
            raise RawDataNotFoundError(f"no UNIPEN files (text starting with a .KEYWORD line) in {source.path}")
        self.files = unipen_files
        lists, maps, unicode = side_tables(side)
        included = {c for rel, targets in includes.items() for t in targets if (c := self._find(rel, t))}
        rows: dict[str, list] = {"file": [], "segment": [], "label": [], "writer": [], "split": []}
        for i, rel in enumerate(unipen_files):
            if rel not in included:  # an included file is pen data of the file that includes it
                self._scan_file(i, rel, lists, maps, rows)
        notes = {
            "unipen_files": len(unipen_files),
            "included_files": len(included),
            "levels": sorted(self.levels),
            "y_axis": self.y_axis,
            "y_down_files": sum(not self._y_up(f) for f in unipen_files if f not in included),
            "pen_width": self.pen_width,
            "source_id": f"file index * {SEGMENT_STRIDE} + segment ordinal",
        }
        return self._catalog(rows, classes(rows["label"], unicode), notes)

    def _scan_file(self, i: int, rel: str, lists: dict, maps: dict, rows: dict[str, list]) -> None:
        try:
            doc = up.parse_unipen(_text(self.reader.read(rel)), rel, self._include)
        except up.UnipenError as exc:
            self.skips.add(exc.reason, rel)
            return
        if doc.uncovered_ink():
            self.skips.add(up.OUTSIDE, rel)
            return
        if len(doc.segments) > SEGMENT_STRIDE:
            raise FormatError(f"{rel}: more than {SEGMENT_STRIDE:,} segments; source ids would collide")
        name = up.lipi_name(rel)
        fallback = _side_label(rel, lists, maps) or (str(name[0]) if name else None)
        writer = doc.writer if doc.writer is not None else _usr(rel)
        official = _list_split(rel, lists, maps)
        official = official if official is not None else split_code(rel)
        for seg in self._selected(doc, rel):
            label = seg.label if seg.label is not None else fallback
            if label is None:
                self.skips.add(NO_LABEL, rel)
                continue
            for key, value in (
                ("file", i),
                ("segment", seg.index),
                ("label", label),
                ("writer", writer),
                ("split", official),
            ):
                rows[key].append(value)

    def _selected(self, doc: up.UnipenFile, rel: str) -> list[up.Segment]:
        if not doc.segments:
            return [_WHOLE]
        out = []
        for seg in doc.segments:
            if seg.level not in self.levels and not (seg.ranges is None and len(doc.segments) == 1):
                continue
            if seg.quality == "BAD" and not self.keep_bad:
                self.skips.add(BAD_QUALITY, f"{rel} segment {seg.index}", fatal=False)
                continue
            problem = doc.check_segment(seg)
            if problem:
                self.skips.add(problem, f"{rel} segment {seg.index}")
                continue
            out.append(seg)
        return out

    def _catalog(self, rows: dict[str, list], classes: tuple, notes: dict) -> Catalog:
        table, labels = classes
        keep = labels >= 0
        for k in np.flatnonzero(~keep):
            self.skips.add(f"labels outside the class table ({len(table)} classes)", rows["label"][k])
        self.row_file = np.array(rows["file"], np.int64)[keep]
        self.row_segment = np.array(rows["segment"], np.int64)[keep]
        writers, writer_names = group_ids([w for w, k in zip(rows["writer"], keep) if k])
        writer_notes = {"writer_names": writer_names[:1000]} if writer_names else {}
        official = published_split([s for s, k in zip(rows["split"], keep) if k])
        groups = {"writer": writers} if (writers >= 0).any() else {}
        groups["file"] = self.row_file.astype(np.int32)
        return Catalog(
            labels=labels[keep].astype(np.int32),
            classes=table,
            groups=groups,
            official=official,
            source_ids=self.row_file * SEGMENT_STRIDE + np.maximum(self.row_segment, 0),
            notes={**notes, **writer_notes},
        )

    def load(self, rows: np.ndarray) -> np.ndarray:
        """Render catalog rows as white-ink ``uint8 [n, size, size]`` images (each file parsed once)."""
        from charbench.kernels import rasterize_strokes

        files, segments = self.row_file[rows], self.row_segment[rows]
        samples: list[list[np.ndarray]] = [[] for _ in range(len(rows))]
        for f in np.unique(files):
            rel = self.files[int(f)]
            doc = up.parse_unipen(_text(self.reader.read(rel)), rel, self._include)
            flip = np.array([1.0, (-1.0 if self._y_up(rel) else 1.0) * doc.y_scale])
            for k in np.flatnonzero(files == f):
                seg = doc.segments[int(segments[k])] if segments[k] >= 0 else _WHOLE
                samples[k] = [p * flip for p in doc.strokes(seg)]
        points, stroke_offsets, sample_offsets = _pack(samples)
        return rasterize_strokes(points, stroke_offsets, sample_offsets, size=self.size, pen_width=self.pen_width)

    def _find(self, name: str, target: str) -> str | None:
        return next((c for c in up.include_candidates(name, target) if c in self._listed), None)

    def _include(self, name: str, target: str) -> tuple[str, str] | None:
        found = self._find(name, target)
        return None if found is None else (found, _text(self.reader.read(found)))

    def _y_up(self, rel: str) -> bool:
        # UNIPEN 1.0 puts y up; the Lipi Toolkit's TabletPC files (NNNtSS.txt) hold screen coordinates, y down.
        if self.y_axis != "auto":
            return self.y_axis == "up"
        return up.lipi_name(rel) is None

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()


_WHOLE = up.Segment(-1, "", None, "", None, 0)  # a file without .SEGMENT: all its ink is one sample


def _levels(text: object) -> frozenset[str]:
    out: set[str] = set()
    for part in str(text).replace(",", " ").upper().split():
        out |= up.CHARACTER_LEVELS if part in ("CHARACTER", "CHARACTERS", "CHAR") else {part}
    if not out:
        raise OptionError(f"--label takes UNIPEN hierarchy levels (character, word, ...); got {text!r}")
    return frozenset(out)


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _usr(rel: str) -> str | None:
    w = up.writer_from_dir(rel.split("/")[:-1])
    return None if w < 0 else str(w)


def discover(reader: RawSource, files: list[str]) -> tuple[list[str], dict[str, bytes], dict[str, list[str]]]:
    """UNIPEN files (sniffed by their first keyword), the small text files beside them (lists, maps) and the
    ``.INCLUDE`` targets of each UNIPEN file."""
    unipen, side, includes = [], {}, {}
    for rel in files:
        if PurePosixPath(rel).suffix.lower() not in TEXT_SUFFIXES:
            continue
        if up.looks_like_unipen(reader.head(rel)):
            unipen.append(rel)
            includes[rel] = [m.decode("utf-8", "replace") for m in _INCLUDE.findall(reader.read(rel))]
        elif rel.lower().endswith(".txt") and len(data := reader.read(rel)) < 4 * 1024**2:
            side[rel] = data
    return unipen, side, includes


def side_tables(side: dict[str, bytes]) -> tuple[dict, dict, dict[int, str]]:
    lists, maps, unicode = {}, {}, {}
    for rel, data in sorted(side.items()):
        text = _text(data)
        stem = Path(rel).stem.lower()
        kind = TEST if "test" in stem else TRAIN if "train" in stem else None
        if (table := up.read_list_file(text)) is not None:
            lists[rel] = (table, kind)
        elif (globs := up.read_map_file(text)) is not None:
            maps[rel] = (globs, kind)
        elif (codes := up.read_unicode_map(text)) is not None:
            unicode.update(codes)
    return lists, maps, unicode


def _side_label(rel: str, lists: dict, maps: dict) -> str | None:
    key = up.tail(rel)
    for table, _ in lists.values():
        if key in table:
            return table[key]
    for globs, _ in maps.values():
        for label, pattern in globs:
            if fnmatch.fnmatchcase(key, pattern):
                return label
    return None


def _list_split(rel: str, lists: dict, maps: dict) -> int | None:
    key = up.tail(rel)
    codes = {kind for table, kind in lists.values() if kind is not None and key in table}
    codes |= {
        kind for globs, kind in maps.values() if kind is not None and any(fnmatch.fnmatchcase(key, g) for _, g in globs)
    }
    return max(codes) if codes else None  # listed as both: test wins, so no test sample is trained on


def _pack(samples: list[list[np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    shifted = []
    for sample in samples:
        lo = np.concatenate(sample).min(axis=0) if sample else np.zeros(2)
        shifted += [s - lo for s in sample]  # float32 keeps its precision near the origin, not at x = 34620
    points = np.concatenate(shifted).astype(np.float32) if shifted else np.zeros((0, 2), np.float32)
    stroke_offsets = np.concatenate([[0], np.cumsum([len(s) for s in shifted])]).astype(np.int64)
    sample_offsets = np.concatenate([[0], np.cumsum([len(s) for s in samples])]).astype(np.int64)
    return points, stroke_offsets, sample_offsets


def classes_from_labels(labels: list[str], unicode: dict[int, str]) -> tuple[list[ClassInfo], np.ndarray]:
    """Numeric ids first, in order (named by the unicode map where it has them), then other strings, sorted; a
    one-character name that is text rather than a bare id carries its codepoint."""

    def entry(label: str) -> tuple[tuple, ClassInfo]:
        if label.isdigit():
            name = unicode.get(int(label), label)
            return (0, int(label), ""), ClassInfo(name, ord(name) if int(label) in unicode and len(name) == 1 else -1)
        return (1, 0, label), ClassInfo(label, ord(label) if len(label) == 1 else -1)

    table = {lab: entry(lab) for lab in set(labels)}
    names: dict[str, int] = {}
    classes, index = [], {}
    for lab in sorted(table, key=lambda lab: table[lab][0]):
        info = table[lab][1]
        if info.name not in names:  # id 5 named "5" by the map and a segment string "5" are one class
            names[info.name] = len(classes)
            classes.append(info)
        index[lab] = names[info.name]
    return classes, np.array([index[lab] for lab in labels], dtype=np.int32)


def unipen_options(opts: dict, skips: Skips) -> UnipenSource:
    return UnipenSource(levels=opts["label"], keep_bad=opts["keep_bad"], y_axis=opts["y_axis"],
                        pen_width=opts["pen_width"], skips=skips)


class FileSourceConverter(Converter):
    """A converter whose scan leaves ``self._src`` (a ``UnipenSource`` or the HPL TIFF tree: ``files``, ``reader``,
    ``load`` and ``close``), which then loads the rows and names the raw files."""

    _src = None

    def load(self, rows: np.ndarray):
        return self._src.load(rows)

    def source_files(self) -> list[str]:
        return self._src.reader.file_paths(self._src.files)

    def source_digests(self) -> dict[str, tuple[int, str]]:
        return self._src.reader.digests or {}

    def close(self) -> None:
        if self._src is not None:
            self._src.close()


@register_dataset("unipen")
class Unipen(FileSourceConverter):
    """Any UNIPEN collection; ``--label`` picks the hierarchy level (default: the character-like levels)."""

    defaults = Defaults(size=64, binarize="none", center="none", invert="no", split="official", fallback_split="group")
    options = {"label": "character", "keep_bad": False, "y_axis": "auto", "pen_width": 0.06}

    def scan(self) -> Catalog:
        self._src = unipen_options(self.opts, self.skips)
        return self._src.scan(self.open_source(remember_digests=True), classes_from_labels)

    def set_output_size(self, size: int) -> bool:
        self._src.size = int(size)
        return True

    def write_synthetic(self, root: Path) -> Path:
        from charbench.synth.unipen import write_unipen_collection

        write_unipen_collection(root, num_classes=5, per_class=8, num_writers=4, bad_every=5)
        return Path(root)
