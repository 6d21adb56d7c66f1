"""Synthetic prepared datasets for the bench tests, written with the real shard writer, and a helper reading a loader's
epoch (not a conftest, so test modules can import them by a name no other test folder uses)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from charbench.shards.arrays import write_arrays


def synthetic_images(labels: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Class k is a bright block at its own place in a 4x4 grid, jittered by a pixel, over sparse noise."""
    n = len(labels)
    images = (rng.random((n, size, size)) < 0.03).astype(np.uint8) * 255
    cell = size // 4
    for i, k in enumerate(labels):
        r, c = divmod(int(k) % 16, 4)
        dr, dc = rng.integers(0, 2, 2)
        images[i, r * cell + dr : (r + 1) * cell - 1 + dr, c * cell + dc : (c + 1) * cell - 1 + dc] = 255
    return images


def write_dataset(
    root: Path,
    name: str = "tiny",
    counts: dict[str, int] | None = None,
    num_classes: int = 4,
    image_size: int = 16,
    shard_size: int = 100,
    seed: int = 0,
    converter: str = "arrays",
) -> Path:
    """Write a prepared dataset ``root/name`` holding the given split sizes; returns its folder. ``converter`` names
    the dataset the arrays stand for (``mnist``: its reference models and targets apply)."""
    counts = counts or {"train": 240, "val": 60, "test": 80}
    rng = np.random.default_rng(seed)
    splits = {}
    for split, n in counts.items():
        labels = (np.arange(n) % num_classes).astype(np.int32)
        rng.shuffle(labels)
        splits[split] = (synthetic_images(labels, image_size, rng), labels)
    classes = [f"c{k}" for k in range(num_classes)]
    return write_arrays(Path(root) / name, splits, classes, shard_size=shard_size, seed=seed, converter=converter)


def epoch_batches(loader, epoch: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """All of ``loader``'s batches of ``epoch``, concatenated: (images, labels)."""
    loader.set_epoch(epoch)
    xs, ys = zip(*loader)
    return torch.cat(xs), torch.cat(ys)
