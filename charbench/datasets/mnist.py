"""MNIST (LeCun, Cortes & Burges), Fashion-MNIST (Zalando), QMNIST (Yadav & Bottou) and any idx pair.

Homepages: yann.lecun.com/exdb/mnist, github.com/zalandoresearch/fashion-mnist,
github.com/facebookresearch/qmnist. Licenses: MNIST CC BY-SA 3.0, Fashion-MNIST MIT, QMNIST BSD.
Raw format: idx (gz or plain), 28x28 uint8, white ink on black; the published train/test split is kept.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from charbench.datasets.arrays import ArrayPairs
from charbench.datasets.base import ClassInfo, Defaults, register_dataset
from charbench.errors import FormatError, RawDataNotFoundError
from charbench.io.idx import read_idx

_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@register_dataset("mnist")
class MNIST(ArrayPairs):
    """MNIST handwritten digits: 60,000 train + 10,000 test, 10 classes."""

    files = _MNIST_FILES
    torchvision_dir = "MNIST"
    class_names = [str(d) for d in range(10)]


@register_dataset("fashion-mnist")
class FashionMNIST(MNIST):
    """Fashion-MNIST: Zalando article images in MNIST's exact layout and file names."""

    torchvision_dir = "FashionMNIST"
    class_names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot"]


@register_dataset("qmnist")
class QMNIST(MNIST):
    """QMNIST: MNIST reconstructed from NIST with per-image metadata; the writer id becomes the group.

    Its label files are idx2 int32 tables with 8 columns: digit, NIST HSF series, writer id, ...
    """

    files = {
        "train": ("qmnist-train-images-idx3-ubyte", "qmnist-train-labels-idx2-int"),
        "test": ("qmnist-test-images-idx3-ubyte", "qmnist-test-labels-idx2-int"),
    }
    torchvision_dir = "QMNIST"

    def _read_labels(self, path: Path) -> tuple[np.ndarray, np.ndarray | None]:
        table = read_idx(path)
        if table.ndim != 2 or table.shape[1] < 3:
            raise FormatError(f"{path}: QMNIST labels must be an idx2 table with >= 3 columns, got {table.shape}")
        return table[:, 0].astype(np.int64), table[:, 2].astype(np.int32)


@register_dataset("idx")
class GenericIdx(ArrayPairs):
    """Any idx image/label pair of any image size (Telugu, Devanagari, ... distributed like MNIST).

    Files are recognised by name: ``*images*idx3*`` with ``*labels*idx1*``; a name containing ``train``
    or ``t10k``/``test`` marks the published split. Class names are the label values.
    """

    defaults = Defaults(invert="no", split="official")

    def scan(self):
        self.files = self._discover()
        return super().scan()

    def _discover(self) -> dict[str, tuple[str, str]]:
        folder = self.source if self.source.is_dir() else self.source.parent
        names = sorted(p.name for p in folder.iterdir() if p.is_file())
        images = [n for n in names if re.search(r"images?[-_.].*idx3", n)]
        labels = [n for n in names if re.search(r"labels?[-_.].*idx1", n)]
        pairs: dict[str, tuple[str, str]] = {}
        for split, pattern in (("train", r"train"), ("test", r"t10k|test")):
            img = [n for n in images if re.search(pattern, n)]
            lbl = [n for n in labels if re.search(pattern, n)]
            if img and lbl:
                pairs[split] = (img[0], lbl[0])
        if not pairs and len(images) == 1 and len(labels) == 1:
            pairs["train"] = (images[0], labels[0])  # one unsplit pair: --split random/group re-splits it
        if not pairs:
            raise RawDataNotFoundError(f"no idx image/label pair (*images*idx3*, *labels*idx1*) in {folder}")
        return pairs

    def classes(self, raw_labels: np.ndarray):
        values = np.unique(raw_labels)
        return [ClassInfo(str(int(v))) for v in values], np.searchsorted(values, raw_labels)
