"""EMNIST (Cohen, Afshar, Tapson & van Schaik 2017): six splits of NIST SD 19 in MNIST's format.

Homepage: nist.gov/itl/products-and-services/emnist-dataset. License: public domain (NIST); cite the paper.
Raw format: ``emnist-<split>-{train,test}-{images-idx3,labels-idx1}-ubyte.gz`` plus
``emnist-<split>-mapping.txt`` (label, ASCII codes), loose or inside the published ``gzip.zip``.
The images are stored transposed (column-major) and are turned upright here.
"""

from __future__ import annotations

import numpy as np

from charbench.datasets._find import extract_from_zip, find_file
from charbench.datasets.arrays import ArrayPairs
from charbench.datasets.base import ClassInfo, register_dataset
from charbench.errors import FormatError

EMNIST_SPLITS = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")


class EMNIST(ArrayPairs):
    """One EMNIST split; the class table comes from its mapping file."""

    split_name = ""
    torchvision_dir = "EMNIST"
    transposed = True

    def classes(self, raw_labels: np.ndarray):
        mapping_name = f"emnist-{self.split_name}-mapping.txt"
        path = find_file(self.source, mapping_name) or extract_from_zip(self.source, mapping_name, self._workdir)
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


for _split in EMNIST_SPLITS:
    register_dataset(f"emnist-{_split}")(
        type(f"EMNIST_{_split}", (EMNIST,), {
            "__doc__": f"EMNIST {_split} split.",
            "split_name": _split,
            "files": {
                "train": (f"emnist-{_split}-train-images-idx3-ubyte", f"emnist-{_split}-train-labels-idx1-ubyte"),
                "test": (f"emnist-{_split}-test-images-idx3-ubyte", f"emnist-{_split}-test-labels-idx1-ubyte"),
            },
        })
    )
