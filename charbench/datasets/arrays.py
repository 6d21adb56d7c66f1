"""Shared wiring for sources that ship each split as an image array file plus a label file (idx or npz)."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from charbench.datasets._find import extract_from_zip, find_file, missing
from charbench.datasets.base import Catalog, ClassInfo, Converter, Defaults
from charbench.errors import FormatError
from charbench.io.idx import check_magic, open_idx, read_header, read_idx
from charbench.io.npz import open_npz_array

# source_ids are part * PART_STRIDE + row, where part is the split's position in SPLIT_PARTS.
PART_STRIDE = 1_000_000_000
SPLIT_CODES = {"train": 0, "test": 2}


@dataclass(frozen=True)
class Part:
    split: str
    images: Path  # a plain idx file or an extracted .npy, memory-mapped on each load
    count: int


class ArrayPairs(Converter):
    """A source of (images, labels) file pairs per split: MNIST and every dataset published like it.

    Subclasses set ``files`` (split -> (images name, labels name)), ``torchvision_dir`` and ``class_names``
    (or override ``classes``); the published split is kept by default.
    """

    files: ClassVar[dict[str, tuple[str, str]]] = {}
    torchvision_dir: ClassVar[str | None] = None
    class_names: ClassVar[list[str]] = []
    transposed: ClassVar[bool] = False  # EMNIST stores images transposed
    defaults = Defaults(invert="no")

    def scan(self) -> Catalog:
        self._workdir = Path(tempfile.mkdtemp(prefix=f"charbench-{self.name}-"))
        self._parts: list[Part] = []
        self._raw: list[Path] = []
        labels, parts_seen = [], []
        for split, (img_name, lbl_name) in self.files.items():
            img_path, lbl_path = self._locate(img_name), self._locate(lbl_name)
            if img_path is None or lbl_path is None:
                continue
            images, y, groups = self._read_pair(img_path, lbl_path)
            self._parts.append(Part(split, Path(images.filename), len(images)))
            self._raw += [img_path, lbl_path]
            labels.append((y, groups))
            parts_seen.append(split)
        if not self._parts:
            names = [n for pair in self.files.values() for n in pair]
            raise missing(self.source, names, f"download them with: charbench fetch {self.name}")
        return self._catalog(labels, parts_seen)

    def _locate(self, name: str) -> Path | None:
        found = find_file(self.source, name, self.torchvision_dir)
        return found or extract_from_zip(self.source, name, self._workdir / "zip")

    def _read_pair(self, img_path: Path, lbl_path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        images = self._open_images(img_path)
        y, groups = self._read_labels(lbl_path)
        if len(y) != len(images):
            raise FormatError(f"{img_path} holds {len(images):,} images but {lbl_path} holds {len(y):,} labels")
        return images, y, groups

    def _open_images(self, path: Path) -> np.ndarray:
        if path.suffix == ".npz":
            arr = open_npz_array(path, workdir=self._workdir)
        else:
            check_magic(read_header(path), 3, "images")
            arr = open_idx(path, self._workdir)
        if arr.ndim != 3 or arr.dtype != np.uint8:
            raise FormatError(f"{path}: expected uint8 images [N, H, W], found {arr.dtype} {arr.shape}")
        return arr

    def _read_labels(self, path: Path) -> tuple[np.ndarray, np.ndarray | None]:
        """Labels (and writer groups where the file has them) of one split."""
        if path.suffix == ".npz":
            return np.asarray(open_npz_array(path, workdir=self._workdir)).astype(np.int64).ravel(), None
        check_magic(read_header(path), 1, "labels")
        return read_idx(path).astype(np.int64), None

    def classes(self, raw_labels: np.ndarray) -> tuple[list[ClassInfo], np.ndarray]:
        """The class table and each raw label's index into it (default: labels are 0..C-1 indices)."""
        n = max(len(self.class_names), int(raw_labels.max()) + 1 if len(raw_labels) else 0)
        if len(raw_labels) and raw_labels.min() < 0:
            raise FormatError(f"{self.source}: negative label {int(raw_labels.min())}")
        names = list(self.class_names) + [str(i) for i in range(len(self.class_names), n)]
        return [ClassInfo(nm) for nm in names], raw_labels

    def _catalog(self, labels: list, parts_seen: list[str]) -> Catalog:
        raw = np.concatenate([y for y, _ in labels])
        classes, index = self.classes(raw)
        source_ids = np.concatenate([SPLIT_CODES.get(p.split, 0) * PART_STRIDE + np.arange(p.count) for p in self._parts])
        official = np.concatenate([np.full(p.count, SPLIT_CODES.get(p.split, 0), np.int8) for p in self._parts])
        has_split = len(self.files) > 1 or len(parts_seen) > 1
        groups = {}
        if all(g is not None for _, g in labels):
            groups["writer"] = np.concatenate([g for _, g in labels]).astype(np.int32)
        missing_splits = [s for s in self.files if s not in parts_seen]
        notes = {"parts": {p.split: {"count": p.count, "source_id_base": SPLIT_CODES.get(p.split, 0) * PART_STRIDE}
                           for p in self._parts}}
        if missing_splits:
            notes["missing_splits"] = missing_splits
        return Catalog(labels=index.astype(np.int32), source_ids=source_ids.astype(np.int64), classes=classes,
                       groups=groups, official=official if has_split else None,
                       native_size=self._native_size(), notes=notes)

    def _native_size(self) -> int | None:
        h_w = {tuple(self._array(p).shape[1:]) for p in self._parts}
        if len(h_w) == 1 and (hw := h_w.pop())[0] == hw[1]:
            return int(hw[0])
        return None

    def _array(self, part: Part) -> np.ndarray:
        if part.images.suffix == ".npy":
            return np.load(part.images, mmap_mode="r")
        return open_idx(part.images)

    def load(self, rows: np.ndarray) -> np.ndarray:
        starts = np.cumsum([0] + [p.count for p in self._parts])
        out = np.empty((len(rows), *self._array(self._parts[0]).shape[1:]), dtype=np.uint8)
        for i, part in enumerate(self._parts):
            mask = (rows >= starts[i]) & (rows < starts[i + 1])
            if mask.any():
                out[mask] = self._array(part)[rows[mask] - starts[i]]
        return np.ascontiguousarray(out.transpose(0, 2, 1)) if self.transposed else out

    def source_files(self) -> list[Path]:
        return list(self._raw)

    def close(self) -> None:
        if getattr(self, "_workdir", None):
            shutil.rmtree(self._workdir, ignore_errors=True)
