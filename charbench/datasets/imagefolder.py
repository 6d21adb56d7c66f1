"""Images kept one class per folder, as most people keep them: torchvision's ``ImageFolder`` and HuggingFace's
``imagefolder`` layouts, Kaggle downloads, and flat folders whose file names carry the label (fastai ``from_name_re``).

``charbench prepare imagefolder --name NAME --source PATH`` (a folder, a zip or tar, or a folder holding them).

Layouts, found from the paths (wrapper folders above them do not matter):

* ``<root>/<class>/<file>``; images deeper below a class folder belong to it (torchvision's rule);
* ``<root>/<split>/<class>/<file>``, where the split folders are named train/training, val/valid/validation,
  test/testing (any case). They are kept as the published split; validation is carved from train when there is none;
* with ``--label-pattern REGEX``: any layout, the label (and optionally the group: writer, page) taken from the path
  relative to the root by the regex's named groups ``label`` and ``group``, e.g.
  ``(?P<label>\\d+)t\\d+\\.usr_(?P<group>\\d+)\\.tiff$``; split folders still mark the published split, and the groups
  drive ``--split group``.

Classes: numeric order when every class name is an integer (``0`` .. ``155``: index = number, so a missing number
is an empty class), otherwise sorted names (torchvision's order); ``--classes FILE`` gives them display names and
codepoints (lines ``id:char``, or a two-column CSV ``id,char``). An empty class folder is a class with no images,
reported.

Pixels: any image Pillow decodes, in any mode, becomes grey (:mod:`charbench.io.images`). Kept pixel-exact at the
native size when every image has one square size and no normalisation is asked for (then the ink polarity is decided
once for the dataset, and dark ink on light paper is inverted); otherwise normalised to ``--size``.

Reading: the scan lists names only (one small sample is decoded for the image size); images are decoded by the
worker processes, and one that cannot be decoded is left out of its shard and counted (``--strict``: an error).
Junk (``._*``, ``.DS_Store``, ``Thumbs.db``, ``__MACOSX/``) and non-image files are skipped and counted.
``source_ids`` number the images in sorted path order.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np

from charbench.datasets.base import (
    Catalog,
    ClassInfo,
    Converter,
    Decoded,
    Defaults,
    group_ids,
    load_image_files,
    register_dataset,
)
from charbench.errors import FormatError, OptionError, RawDataNotFoundError
from charbench.io.images import IMAGE_SUFFIXES, UnreadableImageError, image_shape
from charbench.kernels.ragged import Ragged
from charbench.shards.schema import SPLITS, TEST, TRAIN, VAL

SPLIT_FOLDERS = {"train": TRAIN, "training": TRAIN, "val": VAL, "valid": VAL, "validation": VAL, "test": TEST,
                 "testing": TEST}
NOT_IMAGES = "non-image files"
OUTSIDE = "images outside any class folder"
NO_MATCH = "images whose path does not match --label-pattern"
UNREADABLE = "unreadable images"
EMPTY_CLASSES = "empty class folders (classes without images)"
SIZE_SAMPLE = 64  # images whose header the scan reads for the image size


@register_dataset("imagefolder")
class ImageFolder(Converter):
    """Class-per-folder (or labelled-by-name) image files of any format."""

    defaults = Defaults(binarize="none", center="none", invert="auto", split="official", fallback_split="random")
    options = {"classes": None, "label_pattern": None}
    default_shard_size = 10_000  # decoding is the work: more shards spread it over more workers

    def scan(self) -> Catalog:
        self._raw = self.open_source()
        images = [rel for rel in self._raw.files if rel.lower().endswith(IMAGE_SUFFIXES)]
        self.skips.add(NOT_IMAGES, count=len(self._raw.files) - len(images), fatal=False)
        if not images:
            raise RawDataNotFoundError(f"no image files ({', '.join(IMAGE_SUFFIXES)}) in {self.source}")
        pattern = self.opts["label_pattern"]
        found = _by_pattern(images, pattern, self.skips) if pattern else _by_folder(images, self._raw.folders)
        rows, labels, groups, splits, layout, empty = found
        if not rows:
            raise RawDataNotFoundError(f"no image of {self.source} is in a class folder"
                                       + (" or matches --label-pattern" if pattern else "")
                                       + "; expected <class>/<file> or <split>/<class>/<file>")
        if not pattern:
            self.skips.add(OUTSIDE, images[0] if len(rows) < len(images) else None, count=len(images) - len(rows))
        self._paths = [images[i] for i in rows]
        return self._catalog(rows, labels, groups, splits, layout, empty)

    def _catalog(self, rows, labels, groups, splits, layout, empty) -> Catalog:
        names = self._classes(sorted(set(labels) | set(empty)))
        index = {c: i for i, c in enumerate(names)}
        table = self._display(names)
        self.skips.add(EMPTY_CLASSES, ", ".join(empty[:5]) or None, count=len(empty), fatal=False)
        shapes = self._sample_shapes()
        square = {h for h, w in shapes if h == w}
        self._native = square.pop() if len(shapes) == 1 and square else None
        group_array, group_names = group_ids(groups)
        official = None
        if any(s is not None for s in splits):
            official = np.array([TRAIN if s is None else s for s in splits], np.int8)
        notes = {"layout": layout, "image_files": len(rows), "sampled_image_sizes": sorted(map(list, shapes)),
                 "source_ids": "position of the image in the sorted list of image paths of the source"}
        if official is not None:
            notes["published_splits"] = [SPLITS[c] for c in sorted(set(official.tolist()))]
        if group_names:
            notes["group_names"] = group_names[:1000]
        return Catalog(labels=np.array([index[lab] for lab in labels], np.int32), source_ids=np.asarray(rows, np.int64),
                       classes=table, groups={"group": group_array} if (group_array >= 0).any() else {},
                       official=official, native_size=self._native, notes=notes)

    def _classes(self, found: list[str]) -> list[str]:
        """Numeric order (index = number) when every name is an integer, else sorted names."""
        if found and all(re.fullmatch(r"\d{1,9}", c) for c in found):
            present = {int(c): c for c in found}
            return [present.get(i, str(i)) for i in range(max(present) + 1)]
        return sorted(found)

    def _display(self, names: list[str]) -> list[ClassInfo]:
        mapping = read_class_map(Path(self.opts["classes"])) if self.opts["classes"] else {}
        out = []
        for name in names:
            shown = mapping.get(name, mapping.get(str(int(name)) if name.isdigit() else name, name))
            # a one-character name is that character, unless it is a bare class number
            out.append(ClassInfo(shown, ord(shown) if len(shown) == 1 and not (shown == name and name.isdigit())
                                 else -1))
        return out

    def _sample_shapes(self) -> set[tuple[int, int]]:
        picks = np.unique(np.linspace(0, len(self._paths) - 1, min(SIZE_SAMPLE, len(self._paths))).astype(int))
        shapes = set()
        for k in picks.tolist():
            try:
                shapes.add(image_shape(self._raw.read(self._paths[k]), self._raw.describe(self._paths[k])))
            except UnreadableImageError:
                continue  # left out again (and counted) when its shard is built
        return shapes

    def load(self, rows: np.ndarray) -> np.ndarray | Ragged | Decoded:
        return load_image_files(self._raw, [self._paths[r] for r in np.asarray(rows).tolist()], self._native,
                                UNREADABLE)

    def describe(self, row: int) -> str:
        return self._raw.describe(self._paths[row])

    def source_files(self) -> list[str]:
        return self._raw.file_paths(self._paths)

    def close(self) -> None:
        if getattr(self, "_raw", None) is not None:
            self._raw.close()

    def write_synthetic(self, root: Path) -> Path:
        from charbench.synth.imagefolder import write_image_folder

        return write_image_folder(root)


def _by_folder(images: list[str], folders: list[str]):
    """Rows, labels, groups, split codes, layout name and empty class folders of a class-folder tree."""
    dirs = [rel.split("/")[:-1] for rel in images]
    depth = _common_depth(dirs)
    top = {d[depth].lower() for d in dirs if len(d) > depth}
    split_level = bool(top) and top <= set(SPLIT_FOLDERS) and all(len(d) > depth + 1 for d in dirs)
    level = depth + 1 if split_level else depth
    rows, labels, splits = [], [], []
    for i, d in enumerate(dirs):
        if len(d) > level:
            rows.append(i)
            labels.append(d[level])
            splits.append(SPLIT_FOLDERS[d[depth].lower()] if split_level else None)
    prefix = dirs[0][:depth] if dirs else []
    used = set(labels)
    empty = sorted({f.split("/")[level] for f in folders if len(parts := f.split("/")) == level + 1
                    and parts[:depth] == prefix and (not split_level or parts[depth].lower() in SPLIT_FOLDERS)}
                   - used)
    layout = "<split>/<class>/<file>" if split_level else "<class>/<file>"
    return rows, labels, [None] * len(rows), splits, layout, empty


def _common_depth(dirs: list[list[str]]) -> int:
    """How many leading folders every image shares (wrappers such as the zip's own folder), stopping at a split
    folder and keeping at least one folder (the class) above every image."""
    if not dirs:
        return 0
    limit = min(len(d) for d in dirs) - 1
    depth = 0
    while depth < limit and len({d[depth] for d in dirs}) == 1 and dirs[0][depth].lower() not in SPLIT_FOLDERS:
        depth += 1
    return depth


def _by_pattern(images: list[str], pattern: str, skips):
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise OptionError(f"--label-pattern {pattern!r} is not a regular expression: {exc}") from None
    if "label" not in regex.groupindex:
        raise OptionError(f"--label-pattern needs a named group (?P<label>...); got {pattern!r}")
    rows, labels, groups, splits = [], [], [], []
    for i, rel in enumerate(images):
        m = regex.search(rel)
        if m is None or not m["label"]:
            skips.add(NO_MATCH, rel)
            continue
        rows.append(i)
        labels.append(m["label"])
        groups.append(m.groupdict().get("group"))
        splits.append(_split_in(rel))
    return rows, labels, groups, splits, f"--label-pattern {pattern}", []


def _split_in(rel: str) -> int | None:
    codes = [SPLIT_FOLDERS[p.lower()] for p in rel.split("/")[:-1] if p.lower() in SPLIT_FOLDERS]
    return max(codes) if codes else None


def read_class_map(path: Path) -> dict[str, str]:
    """``--classes FILE``: folder name -> display name, from lines ``id:char`` or a two-column CSV ``id,char``.

    Raises:
        FormatError: the file is missing, not UTF-8, or a line has neither form.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(f"--classes {path}: cannot read it ({exc})") from None
    out = {}
    rows = csv.reader(io.StringIO(text)) if "," in text.partition("\n")[0] else (
        line.split(":", 1) for line in text.splitlines())
    for n, row in enumerate(rows, 1):
        if not row or not "".join(row).strip() or (n == 1 and row[0].strip().lower() in ("id", "class", "label")):
            continue
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            raise FormatError(f"--classes {path} line {n}: expected 'id:char' or 'id,char', got {row!r}")
        out[row[0].strip()] = row[1].strip()
    return out

