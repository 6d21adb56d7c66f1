"""EMNIST (Cohen, Afshar, Tapson & van Schaik 2017): six splits of NIST SD 19 in MNIST's format.

Homepage: nist.gov/itl/products-and-services/emnist-dataset. License: public domain (NIST); cite the paper.
Raw format: ``emnist-<split>-{train,test}-{images-idx3,labels-idx1}-ubyte.gz`` plus
``emnist-<split>-mapping.txt`` (label, ASCII codes), loose or inside the published ``gzip.zip``.
The images are stored transposed (column-major) and are turned upright here. Each split is a config:
``emnist/letters`` (on disk and in the manifest ``emnist-letters``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from charbench.datasets.arrays import ArrayPairs
from charbench.datasets.base import ClassInfo, Config, register_dataset
from charbench.errors import FormatError
from charbench.targets import Target

_TEXTCAPS = ("Jayasundara et al., 'TextCaps: Handwritten Character Recognition with Very Small Datasets', WACV 2019; "
             "github.com/vinojjayasundara/textcaps README, 'Results on MNIST, EMNIST and F-MNIST'")
_TEXTCAPS_PROTOCOL = ("official split, full training set; a capsule network trained with generated (augmented) data, "
                      "so a stronger model class than the reference CNNs")
_EMNIST_PAPER = ("Cohen, Afshar, Tapson & van Schaik 2017, 'EMNIST: an extension of MNIST to handwritten letters', "
                 "arXiv:1702.05373 (OPIUM classifier results, as quoted in github.com/ryanjcooper/EMNIST issue #5)")


@register_dataset("emnist")
class EMNIST(ArrayPairs):
    """EMNIST; the config picks the split, and its mapping file names the classes."""

    configs = (
        Config("byclass", "62 unbalanced classes: digits, upper and lower case letters"),
        Config("bymerge", "47 unbalanced classes: letters that look alike in both cases merged"),
        Config("balanced", "47 balanced classes"),
        Config("letters", "26 balanced classes, upper and lower case merged"),
        Config("digits", "10 balanced digit classes"),
        Config("mnist", "10 digit classes, MNIST's sizes"),
    )
    torchvision_dir = "EMNIST"
    transposed = True
    reference_models = ("simple_cnn", "resnet18")
    targets = (
        Target("simple_cnn", 69.71, _EMNIST_PAPER + ": ByClass, 69.71% +- 1.47%",
               "official split; OPIUM (one hidden layer trained by pseudo-inverse), a weaker model class than any "
               "CNN: a floor, not a like-for-like figure", config="byclass"),
        Target("simple_cnn", 90.46, _TEXTCAPS + ": EMNIST-Balanced 90.46 +- 0.22", _TEXTCAPS_PROTOCOL,
               config="balanced"),
        Target("simple_cnn", 95.36, _TEXTCAPS + ": EMNIST-Letters 95.36 +- 0.30", _TEXTCAPS_PROTOCOL,
               config="letters"),
        Target("simple_cnn", 99.79, _TEXTCAPS + ": EMNIST-Digits 99.79 +- 0.11", _TEXTCAPS_PROTOCOL,
               config="digits"),
    )
    synthetic_classes = 12

    def roles(self) -> tuple[str, ...]:
        return (*super().roles(), "class_table")

    def classes(self, raw_labels: np.ndarray):
        path = self.class_file()
        if path is None:
            values = np.unique(raw_labels)
            return [ClassInfo(str(int(v))) for v in values], np.searchsorted(values, raw_labels)
        table: dict[int, ClassInfo] = {}
        for line_no, line in enumerate(path.read_text(encoding="ascii", errors="replace").splitlines(), 1):
            fields = line.split()
            if not fields:
                continue
            try:
                label, codes = int(fields[0]), [int(c) for c in fields[1:]]
            except ValueError:
                raise FormatError(f"{path}:{line_no}: expected 'label code [code]', got {line!r}") from None
            name = "/".join(chr(c) for c in codes)
            table[label] = ClassInfo(name, codes[0] if len(codes) == 1 else -1)
        labels = sorted(table)
        unknown = np.setdiff1d(np.unique(raw_labels), labels)
        if len(unknown):
            raise FormatError(f"labels {unknown[:5].tolist()} are not in {path}")
        return [table[v] for v in labels], np.searchsorted(labels, raw_labels)

    @property
    def synthetic_label_offset(self) -> int:
        return 1 if self.config.name == "letters" else 0  # the letters split counts from 1

    def _write_extras(self, root: Path) -> None:
        alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        lines = [f"{i + self.synthetic_label_offset} {ord(alphabet[i])}" for i in range(self.synthetic_classes)]
        (Path(root) / self.file_names("class_table")[-1]).write_text("\n".join(lines) + "\n")
