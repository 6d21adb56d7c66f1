"""Fixed synthetic raw sources, one or more per converter, whose prepared content hashes are pinned.

``golden_content_hashes.json`` holds the dataset content hash each case gave when it was recorded; a change that
alters what a converter writes for the same input shows up as a mismatch here (and must then be deliberate).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from charbench.synth.idx import write_idx, write_mnist_layout
from charbench.synth.omniglot import write_omniglot
from charbench.synth.pages import write_codh_books, write_kaggle_pages, write_kanji_tree
from charbench.synth.tiff import write_hpl_tiffs
from charbench.synth.unipen import write_lipi_tree, write_unipen_collection

EMNIST_SPLITS = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")


def _pairs(root: Path, names: dict[str, tuple[str, str]], num_classes: int, label_offset: int = 0) -> Path:
    """Image/label idx (or npz) pairs of synthetic glyphs under the given file names."""
    mnist = write_mnist_layout(root / "_glyphs", train_per_class=6, test_per_class=2, num_classes=num_classes, gz=False)
    from charbench.io.idx import read_idx

    for split, (img_name, lbl_name) in names.items():
        prefix = "train" if split == "train" else "t10k"
        images = read_idx(mnist / f"{prefix}-images-idx3-ubyte")
        labels = read_idx(mnist / f"{prefix}-labels-idx1-ubyte").astype(np.uint8) + label_offset
        for name, array in ((img_name, images), (lbl_name, labels)):
            if name.endswith(".npz"):
                np.savez_compressed(root / name, arr_0=array)
            else:
                write_idx(root / name, array)
    for f in (root / "_glyphs").iterdir():
        f.unlink()
    (root / "_glyphs").rmdir()
    return root


def _emnist(root: Path, split: str) -> Path:
    classes = {"letters": 26, "digits": 10, "mnist": 10, "balanced": 12, "bymerge": 12, "byclass": 12}[split]
    offset = 1 if split == "letters" else 0
    names = {s: (f"emnist-{split}-{s}-images-idx3-ubyte.gz", f"emnist-{split}-{s}-labels-idx1-ubyte.gz")
             for s in ("train", "test")}
    _pairs(root, names, classes, offset)
    codes = [ord(c) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
    lines = [f"{i + offset} {codes[(i + (10 if split == 'letters' else 0)) % len(codes)]}" for i in range(classes)]
    (root / f"emnist-{split}-mapping.txt").write_text("\n".join(lines) + "\n")
    return root


def _qmnist(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for split, n in (("train", 60), ("test", 20)):
        table = np.zeros((n, 8), np.int32)
        table[:, 0] = np.arange(n) % 10
        table[:, 2] = np.arange(n) // 5 + (100 if split == "train" else 500)
        write_idx(root / f"qmnist-{split}-images-idx3-ubyte.gz", rng.integers(0, 255, (n, 28, 28), dtype=np.uint8))
        write_idx(root / f"qmnist-{split}-labels-idx2-int.gz", table.astype(">i4"))
    return root


def _idx_generic(root: Path) -> Path:
    imgs = write_mnist_layout(root / "g", train_per_class=4, test_per_class=1, num_classes=3, size=36, gz=False)
    for f in imgs.iterdir():
        f.rename(root / f.name.replace("train", "chars-train").replace("t10k", "chars-test"))
    imgs.rmdir()
    return root


def _mnist(root: Path) -> Path:
    return write_mnist_layout(root, train_per_class=20, test_per_class=5)


def _kaggle(root: Path) -> Path:
    write_kaggle_pages(root, num_pages=8, num_books=3)
    return root


def _codh(root: Path) -> Path:
    write_codh_books(root, num_pages=4, num_books=2)
    return root


def _kanji(root: Path) -> Path:
    write_kanji_tree(root / "kkanji2", num_classes=8, per_class=20, zipf=1.0)
    return root


# case id -> (converter name, writer(root) -> source, prepare keyword arguments)
CASES = {
    "mnist": ("mnist", _mnist, {}),
    "mnist-resized-otsu": ("mnist", _mnist, {"size": 20, "binarize": "otsu"}),
    "fashion-mnist": ("fashion-mnist", _mnist, {}),
    "qmnist": ("qmnist", _qmnist, {}),
    "kmnist-idx": ("kmnist", _mnist, {}),
    "kmnist-npz": ("kmnist", lambda r: _pairs(r, {"train": ("kmnist-train-imgs.npz", "kmnist-train-labels.npz"),
                                                  "test": ("kmnist-test-imgs.npz", "kmnist-test-labels.npz")}, 10),
                   {}),
    "k49": ("k49", lambda r: _pairs(r, {"train": ("k49-train-imgs.npz", "k49-train-labels.npz"),
                                        "test": ("k49-test-imgs.npz", "k49-test-labels.npz")}, 12), {}),
    **{f"emnist-{s}": (f"emnist-{s}", lambda r, s=s: _emnist(r, s), {}) for s in EMNIST_SPLITS},
    "idx": ("idx", _idx_generic, {"output_name": "chars"}),
    "hpl-tamil-tiff": ("hpl-tamil", lambda r: write_hpl_tiffs(r, num_classes=6, per_class=5, num_writers=8, seed=1), {}),
    "hpl-tamil-unipen": ("hpl-tamil", lambda r: write_lipi_tree(r, num_classes=5, per_class=6, num_writers=6) and r,
                         {"size": 32}),
    "unipen": ("unipen", lambda r: write_unipen_collection(r, num_classes=5, per_class=6, num_writers=4, bad_every=5)
               and r, {"output_name": "latin"}),
    "kuzushiji-kaggle": ("kuzushiji", _kaggle, {}),
    "kuzushiji-kaggle-balanced": ("kuzushiji", _kaggle, {"balance": 20, "min_count": 2}),
    "kuzushiji-codh": ("kuzushiji", _codh, {"group_by": "book", "fractions": (0.5, 0.0, 0.5)}),
    "kuzushiji-kanji": ("kuzushiji-kanji", _kanji, {}),
    "omniglot": ("omniglot", lambda r: write_omniglot(r, sets=("background", "evaluation")),
                 {"options": {"subset": "background"}}),
    "omniglot-every-set": ("omniglot", lambda r: write_omniglot(r, sets=("background", "evaluation")), {}),
    "omniglot-zip-character-all": ("omniglot", lambda r: write_omniglot(r, sets=("background", "evaluation"),
                                                                        zipped=True),
                                   {"options": {"label": "character", "subset": "all"}}),
    "omniglot-strokes": ("omniglot", lambda r: write_omniglot(r), {"options": {"modality": "strokes"}, "size": 28}),
}
