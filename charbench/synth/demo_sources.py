"""The demo's synthetic raw sources, one per raw format, sized so the whole demo runs in minutes on 2 cores."""

from __future__ import annotations

from pathlib import Path

from charbench.synth.idx import write_mnist_layout
from charbench.synth.omniglot import write_omniglot
from charbench.synth.pages import write_kaggle_pages
from charbench.synth.tiff import write_hpl_tiffs
from charbench.synth.unipen import write_lipi_tree


def write_source(kind: str, root: Path, small: bool = False) -> Path:
    """Write the demo's raw files of ``kind`` (idx, tiff, unipen, pages, omniglot) under ``root``; returns it."""
    k = 2 if small else 1  # --small halves the sample counts
    root = Path(root)
    if kind == "idx":
        return write_mnist_layout(root, train_per_class=150 // k, test_per_class=30 // k)
    if kind == "tiff":
        return write_hpl_tiffs(root, num_classes=10, per_class=80 // k, num_writers=20, seed=1)
    if kind == "unipen":
        write_lipi_tree(root, num_classes=10, per_class=60 // k, num_writers=10, test_writers=2, seed=2)
        return root
    if kind == "pages":
        write_kaggle_pages(root, num_classes=12, num_pages=36 // k, boxes_per_page=30, num_books=4, seed=3)
        return root
    if kind == "omniglot":
        return write_omniglot(root, num_alphabets=4, characters=5, drawers=20, seed=4, zipped=True)
    raise ValueError(f"unknown demo source kind {kind!r}")
