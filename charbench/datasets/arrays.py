"""Shared wiring for sources that ship each split as an image array file plus a label file (idx or npz)."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from charbench.datasets.base import Catalog, ClassInfo, Converter, Defaults, spellings
from charbench.errors import FormatError, RawDataNotFoundError
from charbench.io.idx import check_magic, open_idx, read_header, read_idx
from charbench.io.npz import open_npz_array
from charbench.shards.schema import TEST, TRAIN

# source_ids are code * PART_STRIDE + row, where code is the split code of the file the row comes from.
PART_STRIDE = 1_000_000_000
PART_CODES = {"train": TRAIN, "test": TEST}


@dataclass(frozen=True)
class Part:
    split: str
    images: Path  # a plain idx file or an extracted .npy, memory-mapped on each load
    count: int


class ArrayPairs(Converter):
    """A source of (images, labels) file pairs per split: MNIST and every dataset published like it.

    Subclasses set ``pairs`` (split -> manifest roles of its images and labels files, when they differ from the
    default), ``torchvision_dir`` and ``class_names`` (or override ``classes``); the published split is kept.
    """

    pairs: ClassVar[dict[str, tuple[str, str]]] = {
        "train": ("train_images", "train_labels"),
        "test": ("test_images", "test_labels"),
    }
    torchvision_dir: ClassVar[str | None] = None
    class_names: ClassVar[list[str]] = []
    transposed: ClassVar[bool] = False  # EMNIST stores images transposed
    defaults = Defaults(invert="no")  # every dataset of this family is white ink on black, as published
    cheap_load = True  # rows are slices of memory-mapped arrays
    load_batch = None  # and hold no decoded copy: a shard's rows in one call

    def roles(self) -> tuple[str, ...]:
        return tuple(role for pair in self.pairs.values() for role in pair)

    def scan(self) -> Catalog:
        self._workdir = Path(tempfile.mkdtemp(prefix=f"charbench-{self.name}-"))
        self._raw = self.open_source()
        self._parts: list[Part] = []
        self._used: list[str] = []
        labels = []
        expected = self.split_files()
        for split, (img_name, lbl_name) in expected.items():
            img, lbl = self._locate(img_name), self._locate(lbl_name)
            if img is None or lbl is None:
                continue
            images, y, groups = self._read_pair(img, lbl)
            self._parts.append(Part(split, Path(images.filename), len(images)))
            self._used += [img, lbl]
            labels.append((y, groups))
        if not self._parts:
            names = [n for pair in expected.values() for n in pair]
            raise RawDataNotFoundError(f"none of {', '.join(names)} (plain or .gz) found in {self.source}; "
                                       f"download them with: charbench fetch {self.dataset_name}")
        return self._catalog(labels, list(expected))

    def pair_names(self, pairs: dict[str, tuple[str, str]] | None = None) -> dict[str, tuple[str, str]]:
        """split -> (images file name, labels file name) of the manifest roles in ``pairs`` (default ``self.pairs``)."""
        return {split: (self.file_names(img)[-1], self.file_names(lbl)[-1])
                for split, (img, lbl) in (pairs or self.pairs).items()}

    def split_files(self) -> dict[str, tuple[str, str]]:
        """The files this source's splits are read from (scan calls it with the source open)."""
        return self.pair_names()

    def _locate(self, name: str) -> str | None:
        """The source's file called ``name`` (or its gzipped / unpacked twin), in a folder or an archive."""
        return self._raw.find_named(spellings(name), self.torchvision_dir)

    def _local(self, rel: str) -> Path:
        return self._raw.local_path(rel, self._workdir / "extracted")

    def _read_pair(self, img: str, lbl: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        images = self._open_images(self._local(img))
        y, groups = self._read_labels(self._local(lbl))
        if len(y) != len(images):
            raise FormatError(f"{self._raw.describe(img)} holds {len(images):,} images but "
                              f"{self._raw.describe(lbl)} holds {len(y):,} labels")
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

    def class_file(self, role: str = "class_table") -> Path | None:
        """The source's class-table file of ``role`` (found like the image files), on disk; None when absent."""
        rel = self._raw.find_named(self.file_names(role), self.torchvision_dir)
        if rel is None:
            return None
        self._used.append(rel)
        return self._local(rel)

    def _catalog(self, labels: list, expected: list[str]) -> Catalog:
        raw = np.concatenate([y for y, _ in labels])
        classes, index = self.classes(raw)
        codes = [PART_CODES.get(p.split, TRAIN) for p in self._parts]
        source_ids = np.concatenate([c * PART_STRIDE + np.arange(p.count) for c, p in zip(codes, self._parts)])
        official = np.concatenate([np.full(p.count, c, np.int8) for c, p in zip(codes, self._parts)])
        seen = [p.split for p in self._parts]
        groups = {}
        if all(g is not None for _, g in labels):
            groups["writer"] = np.concatenate([g for _, g in labels]).astype(np.int32)
        notes = {"parts": {p.split: {"count": p.count, "source_id_base": c * PART_STRIDE}
                           for c, p in zip(codes, self._parts)}}
        if missing := [s for s in expected if s not in seen]:
            notes["missing_splits"] = missing
        return Catalog(labels=index.astype(np.int32), source_ids=source_ids.astype(np.int64), classes=classes,
                       groups=groups, official=official if len(expected) > 1 or len(seen) > 1 else None,
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

    def source_files(self) -> list[str]:
        return self._raw.file_paths(self._used)

    def close(self) -> None:
        if getattr(self, "_raw", None) is not None:
            self._raw.close()
        if getattr(self, "_workdir", None):
            shutil.rmtree(self._workdir, ignore_errors=True)

    # -- synthetic source -----------------------------------------------------------------------------------------

    synthetic_classes: ClassVar[int] = 10
    synthetic_label_offset: ClassVar[int] = 0  # EMNIST letters count from 1

    def write_synthetic(self, root: Path) -> Path:
        """Glyph images (white on black) under the manifest's file names of every split, plus ``_write_extras``."""
        from charbench.synth.glyphs import GlyphGenerator, assign

        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        gen = GlyphGenerator(self.synthetic_classes, seed=0)
        for k, (split, (img_name, lbl_name)) in enumerate(self.pair_names().items()):
            labels, writers = assign(self.synthetic_classes, 8 if split == "train" else 3, 6, seed=k)
            images = gen.images(labels, writers + 100 * k, 28)
            images = np.ascontiguousarray(images.transpose(0, 2, 1)) if self.transposed else images
            _write_array(root / img_name, images)
            _write_array(root / lbl_name, self._synthetic_labels(labels + self.synthetic_label_offset, writers))
        self._write_extras(root)
        return root

    def _synthetic_labels(self, labels: np.ndarray, writers: np.ndarray) -> np.ndarray:
        return labels.astype(np.uint8)

    def _write_extras(self, root: Path) -> None:
        """Class tables and other side files of a synthetic source."""


def _write_array(path: Path, array: np.ndarray) -> None:
    if path.suffix == ".npz":
        np.savez_compressed(path, arr_0=array)
    else:
        from charbench.synth.idx import write_idx

        write_idx(path, array)
