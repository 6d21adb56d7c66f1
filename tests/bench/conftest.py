"""Fixtures of the bench tests: synthetic prepared datasets in a temporary folder."""

from pathlib import Path

import pytest
import torch
from synthetic_shards import write_dataset

from charbench.shards.reader import open_dataset

torch.set_num_threads(1)


@pytest.fixture
def make_dataset(tmp_path):
    """Factory: ``make_dataset(name, counts=..., num_classes=..., image_size=..., shard_size=...)`` -> folder."""

    def factory(name: str = "tiny", **kwargs) -> Path:
        return write_dataset(tmp_path / "prepared", name, **kwargs)

    return factory


@pytest.fixture
def reader(make_dataset):
    """One 230-image train split in 5 shards of 50, so streaming has several shards to shuffle and partition."""
    return open_dataset(make_dataset(counts={"train": 230}, shard_size=50), "train")
