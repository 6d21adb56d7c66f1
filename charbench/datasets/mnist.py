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
from charbench.targets import Target

KMNIST_README = ("rois-codh/kmnist README.md, benchmark table (companion of Clanuwat et al. 2018, 'Deep Learning for "
                 "Classical Japanese Literature', arXiv:1812.01718)")
_LECUN = ("LeCun, Cortes & Burges, 'The MNIST database of handwritten digits', yann.lecun.com/exdb/mnist, table "
          "'Neural Nets' (LeCun et al. 1998, Proc. IEEE 86(11))")
_FASHION = "zalandoresearch/fashion-mnist README.md, section 'Benchmark' (submitted results, not re-tested by the authors)"


@register_dataset("mnist")
class MNIST(ArrayPairs):
    """MNIST handwritten digits: 60,000 train + 10,000 test, 10 classes."""

    torchvision_dir = "MNIST"
    class_names = [str(d) for d in range(10)]
    reference_models = ("simple_cnn", "mlp", "preact_resnet18")
    targets = (
        Target("simple_cnn", 99.06, KMNIST_README + ": 'Keras Simple CNN Benchmark', MNIST column",
               "official 60k/10k split, no augmentation, Adadelta, batch 128, 12 epochs, last-epoch test accuracy "
               "(benchmarks/kuzushiji_mnist_cnn.py)"),
        Target("mlp", 96.95, _LECUN + ": '3-layer NN, 300+100 hidden units', 3.05% error",
               "official split, no preprocessing or distortions; the listed MLP closest in size to 784-128-64-10 "
               "(sigmoid units, mean squared error); the best plain MLP there (500+300, cross-entropy, weight "
               "decay) reaches 98.47"),
        Target("preact_resnet18", 99.56, KMNIST_README + ": 'PreActResNet-18', MNIST column",
               "official split; training recipe (epochs, augmentation) not stated"),
    )


@register_dataset("fashion-mnist")
class FashionMNIST(MNIST):
    """Fashion-MNIST: Zalando article images in MNIST's exact layout and file names."""

    torchvision_dir = "FashionMNIST"
    class_names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot"]
    reference_models = ("simple_cnn", "mlp", "resnet18")
    targets = (
        Target("simple_cnn", 87.6, _FASHION + ": '2 Conv Layers with max pooling (Keras)', 0.876",
               "official split, no preprocessing; epochs not stated; likely the same Keras example CNN (its gist "
               "was not readable); similar 2-conv nets in the same table reach 92.2-92.5, so this is a floor"),
        Target("mlp", 90.0, _FASHION + ": 'MLP 256-128-64', 0.900",
               "official split, no preprocessing; three hidden layers 256-128-64 (wider than charbench's 128-64)"),
        Target("resnet18", 94.9, _FASHION + ": 'ResNet18' (github.com/kefth/fashion-mnist), 0.949",
               "official split; augmentation: normalisation, random flips, translation and rotation; early "
               "stopping (a later README of kefth/fashion-mnist lists 92.0 for the same model)"),
    )


@register_dataset("qmnist")
class QMNIST(MNIST):
    """QMNIST: MNIST reconstructed from NIST with per-image metadata; the writer id becomes the group.

    Its label files are idx2 int32 tables with 8 columns: digit, NIST HSF series, writer id, ...
    """

    torchvision_dir = "QMNIST"
    reference_models = ("simple_cnn", "mlp")
    targets = (
        Target("simple_cnn", 99.20, "facebookresearch/qmnist README.md, section 1: LeNet-5 trained on QMNIST, "
               "0.80% error on QMNIST10K (1.08% on QMNIST50K)",
               "QMNIST train (60k) / QMNIST test; no augmentation; 30 epochs; a LeNet-5 variant, the same class as "
               "simple_cnn (two convolutions, pooling, dense)"),
    )

    def _read_labels(self, path: Path) -> tuple[np.ndarray, np.ndarray | None]:
        table = read_idx(path)
        if table.ndim != 2 or table.shape[1] < 3:
            raise FormatError(f"{path}: QMNIST labels must be an idx2 table with >= 3 columns, got {table.shape}")
        return table[:, 0].astype(np.int64), table[:, 2].astype(np.int32)

    def _synthetic_labels(self, labels: np.ndarray, writers: np.ndarray) -> np.ndarray:
        table = np.zeros((len(labels), 8), ">i4")
        table[:, 0], table[:, 2] = labels, writers + 100
        return table


@register_dataset("idx")
class GenericIdx(ArrayPairs):
    """Any idx image/label pair of any image size (Telugu, Devanagari, ... distributed like MNIST).

    Files are recognised by name: ``*images*idx3*`` with ``*labels*idx1*``; a name containing ``train``
    or ``t10k``/``test`` marks the published split. Class names are the label values. Their ink polarity is not
    known: kept pixel-exact, the whole dataset is inverted when it is dark ink on light paper (decided over a sample);
    normalised, each image is.
    """

    defaults = Defaults(invert="auto", split="official")

    def roles(self) -> tuple[str, ...]:
        return ()  # no manifest entry: the files are found by their names' pattern

    def split_files(self) -> dict[str, tuple[str, str]]:
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

    def open_source(self, **kwargs):
        if self.source.is_file():  # one file named: its folder holds the pair
            self.source = self.source.parent
        return super().open_source(**kwargs)

    def classes(self, raw_labels: np.ndarray):
        values = np.unique(raw_labels)
        return [ClassInfo(str(int(v))) for v in values], np.searchsorted(values, raw_labels)

    def write_synthetic(self, root: Path) -> Path:
        from charbench.synth.idx import write_mnist_layout

        raw = write_mnist_layout(Path(root) / "tmp", train_per_class=6, test_per_class=2, num_classes=4, size=36,
                                 gz=False)
        for f in sorted(raw.iterdir()):
            f.rename(Path(root) / f.name.replace("train", "chars-train").replace("t10k", "chars-test"))
        raw.rmdir()
        return Path(root)
