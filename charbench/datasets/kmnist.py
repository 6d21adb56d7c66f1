"""KMNIST and Kuzushiji-49 (Clanuwat et al. 2018, "Deep Learning for Classical Japanese Literature").

Homepage: github.com/rois-codh/kmnist. License: CC BY-SA 4.0 (ROIS-DS CODH / NIJL).
Raw format: the same idx files as MNIST, or ``.npz`` archives (``kmnist-train-imgs.npz`` with ``arr_0``)
with a ``*_classmap.csv`` (index, codepoint, char) beside them. 28x28 uint8, white ink on black.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from charbench.datasets._find import find_file
from charbench.datasets.arrays import ArrayPairs
from charbench.datasets.base import Catalog, ClassInfo, register_dataset
from charbench.errors import FormatError

# The ten KMNIST classes (kmnist_classmap.csv), used when the class map is not beside the data.
_KMNIST_CODEPOINTS = [0x304A, 0x304D, 0x3059, 0x3064, 0x306A, 0x306F, 0x307E, 0x3084, 0x308C, 0x3092]


def read_classmap(path: Path) -> list[ClassInfo]:
    """A ``*_classmap.csv`` (``index,codepoint,char``) as a class table ordered by index."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        table = sorted((int(r["index"]), r["codepoint"], r["char"]) for r in rows)
    except (OSError, KeyError, ValueError, UnicodeDecodeError) as exc:
        raise FormatError(f"{path}: not a class map with columns index,codepoint,char ({exc})") from None
    return [ClassInfo(char, int(cp.removeprefix("U+"), 16)) for _, cp, char in table]


class _Kuzushiji28(ArrayPairs):
    npz_files: dict[str, tuple[str, str]] = {}
    classmap = ""
    builtin_codepoints: list[int] = []

    def scan(self) -> Catalog:
        # The idx and npz releases hold the same images; take whichever the source has (npz first).
        if any(find_file(self.source, img) for img, _ in self.npz_files.values()):
            self.files = self.npz_files
        return super().scan()

    def classes(self, raw_labels: np.ndarray):
        path = find_file(self.source, self.classmap)
        if path is not None:
            table = read_classmap(path)
        else:
            table = [ClassInfo(chr(cp), cp) for cp in self.builtin_codepoints]
        n = int(raw_labels.max()) + 1 if len(raw_labels) else 0
        if n > len(table):
            table += [ClassInfo(str(i)) for i in range(len(table), n)]
        return table, raw_labels


@register_dataset("kmnist")
class KMNIST(_Kuzushiji28):
    """Kuzushiji-MNIST: 10 hiragana classes, 60,000 train + 10,000 test."""

    files = {
        "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    }
    npz_files = {
        "train": ("kmnist-train-imgs.npz", "kmnist-train-labels.npz"),
        "test": ("kmnist-test-imgs.npz", "kmnist-test-labels.npz"),
    }
    torchvision_dir = "KMNIST"
    classmap = "kmnist_classmap.csv"
    builtin_codepoints = _KMNIST_CODEPOINTS


@register_dataset("k49")
class Kuzushiji49(_Kuzushiji28):
    """Kuzushiji-49: 49 hiragana classes (imbalanced), 232,365 train + 38,547 test; npz only."""

    files = npz_files = {
        "train": ("k49-train-imgs.npz", "k49-train-labels.npz"),
        "test": ("k49-test-imgs.npz", "k49-test-labels.npz"),
    }
    classmap = "k49_classmap.csv"
