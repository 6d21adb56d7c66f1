"""Shared fixtures: the real-data folder (skipped when absent) and small prepared datasets."""

from __future__ import annotations

from pathlib import Path

import pytest

REAL_DATA = (Path(__file__).resolve().parent.parent.parent / "shared" / "data").resolve()


@pytest.fixture
def real_data() -> Path:
    """``../shared/data``; the test is skipped when it is absent (a user's fresh clone has none)."""
    if not REAL_DATA.is_dir():
        pytest.skip(f"real data folder {REAL_DATA} is absent")
    return REAL_DATA


@pytest.fixture
def tiny_dataset(tmp_path_factory):
    """Factory: a prepared synthetic MNIST-layout dataset; ``tiny_dataset(per_class=30, size=28)`` -> folder."""
    from charbench.prepare import PrepareConfig, prepare
    from charbench.synth.idx import write_mnist_layout

    def make(name: str = "mnist", per_class: int = 30, test_per_class: int = 10, num_classes: int = 10,
             size: int = 28, seed: int = 0, **config) -> Path:
        base = tmp_path_factory.mktemp("tiny")
        raw = write_mnist_layout(base / "raw", train_per_class=per_class, test_per_class=test_per_class,
                                 num_classes=num_classes, size=size, seed=seed)
        cfg = PrepareConfig(name="idx" if name != "mnist" else "mnist", source=raw, out=base / "prepared",
                            output_name=name if name != "mnist" else None, progress=False, workers=1, **config)
        return prepare(cfg)

    return make
