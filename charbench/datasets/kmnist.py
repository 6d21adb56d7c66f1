"""KMNIST and Kuzushiji-49 (Clanuwat et al. 2018, "Deep Learning for Classical Japanese Literature").

Homepage: github.com/rois-codh/kmnist. License: CC BY-SA 4.0 (ROIS-DS CODH / NIJL).
Raw format: the same idx files as MNIST, or ``.npz`` archives (``kmnist-train-imgs.npz`` with ``arr_0``)
with a ``*_classmap.csv`` (index, codepoint, char) beside them. 28x28 uint8, white ink on black.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import ClassVar

import numpy as np

from charbench.datasets.arrays import ArrayPairs
from charbench.datasets.base import ClassInfo, register_dataset
from charbench.datasets.mnist import KMNIST_README
from charbench.errors import FormatError
from charbench.targets import Target

# The ten KMNIST classes (kmnist_classmap.csv), used when the class map is not beside the data.
_KMNIST_CODEPOINTS = [0x304A, 0x304D, 0x3059, 0x3064, 0x306A, 0x306F, 0x307E, 0x3084, 0x308C, 0x3092]
_NPZ_PAIRS = {"train": ("train_images_npz", "train_labels_npz"), "test": ("test_images_npz", "test_labels_npz")}
_FIXED_DATA = "; the README re-ran it on the data fixed on 2019-02-05 (it gave {} before)"
_OLD_DATA = "; measured on the data before its 2019-02-05 fix (marked * in the README), which scored slightly lower"


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
    """The 28x28 Kuzushiji releases: idx or npz pairs, and a class map naming each label's character."""

    npz_pairs: ClassVar[dict[str, tuple[str, str]]] = {}
    builtin_codepoints: ClassVar[list[int]] = []
    reference_models = ("simple_cnn", "preact_resnet18")

    def roles(self) -> tuple[str, ...]:
        return (*super().roles(), *(r for pair in self.npz_pairs.values() for r in pair), "class_table")

    def split_files(self) -> dict[str, tuple[str, str]]:
        # The idx and npz releases hold the same images; take whichever the source has (npz first).
        npz = self.pair_names(self.npz_pairs) if self.npz_pairs else {}
        if any(self._locate(img) for img, _ in npz.values()):
            return npz
        return super().split_files()

    def classes(self, raw_labels: np.ndarray):
        path = self.class_file()
        table = read_classmap(path) if path is not None else [ClassInfo(chr(cp), cp) for cp in self.builtin_codepoints]
        n = int(raw_labels.max()) + 1 if len(raw_labels) else 0
        if n > len(table):
            table += [ClassInfo(str(i)) for i in range(len(table), n)]
        return table, raw_labels

    def _write_extras(self, root: Path) -> None:
        rows = ["index,codepoint,char"] + [f"{i},U+{0x3042 + i:04X},{chr(0x3042 + i)}"
                                           for i in range(self.synthetic_classes)]
        (Path(root) / self.file_names("class_table")[-1]).write_text("\n".join(rows) + "\n", encoding="utf-8")


@register_dataset("kmnist")
class KMNIST(_Kuzushiji28):
    """Kuzushiji-MNIST: 10 hiragana classes, 60,000 train + 10,000 test."""

    torchvision_dir = "KMNIST"
    npz_pairs = _NPZ_PAIRS
    builtin_codepoints = _KMNIST_CODEPOINTS
    targets = (
        Target("simple_cnn", 94.63, KMNIST_README + ": 'Keras Simple CNN Benchmark', Kuzushiji-MNIST column"
               + _FIXED_DATA.format("95.12"),
               "official 60k/10k split, no augmentation, Adadelta, batch 128, 12 epochs, last-epoch test accuracy"),
        Target("preact_resnet18", 97.82, KMNIST_README + ": 'PreActResNet-18', Kuzushiji-MNIST column" + _OLD_DATA,
               "official split; training recipe not stated"),
    )


@register_dataset("k49")
class Kuzushiji49(_Kuzushiji28):
    """Kuzushiji-49: 49 hiragana classes (imbalanced), 232,365 train + 38,547 test; npz only."""

    synthetic_classes = 12
    targets = (
        Target("simple_cnn", 89.36, KMNIST_README + ": 'Keras Simple CNN Benchmark', Kuzushiji-49 column"
               + _FIXED_DATA.format("89.25"),
               "official split; balanced accuracy (mean per-class recall), the metric the README recommends",
               metric="balanced_accuracy"),
        Target("preact_resnet18", 96.64, KMNIST_README + ": 'PreActResNet-18', Kuzushiji-49 column" + _OLD_DATA,
               "official split; balanced accuracy; training recipe not stated", metric="balanced_accuracy"),
    )
