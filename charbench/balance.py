"""Class-balancing resamplers for the training split: labels in, (indices, variants) out.

``indices`` point into the split's examples; ``variants`` is 0 for an original and k > 0 for the
k-th varied copy of it, which the writer renders as a seeded affine variation (see kernels.variation),
so oversampled images are never byte-identical copies and stay traceable to their original.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from charbench.errors import OptionError
from charbench.registry import Registry

RESAMPLERS: Registry = Registry("balance mode")


@dataclass(frozen=True)
class Resampled:
    indices: np.ndarray  # int64, into the labels given
    variants: np.ndarray  # int32, 0 = original
    dropped_classes: list[int] = field(default_factory=list)


def _per_class(labels: np.ndarray, target: int, seed: int, cap: bool, fill: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    out_idx, out_var = [], []
    for cls in np.unique(labels):
        idx = np.flatnonzero(labels == cls)
        if cap and len(idx) > target:
            idx = np.sort(rng.choice(idx, size=target, replace=False))
        variants = np.zeros(len(idx), dtype=np.int32)
        if fill and len(idx) < target:
            extra = target - len(idx)
            # Cycle through a shuffled order of the originals so every one is copied as evenly as possible.
            order = np.resize(rng.permutation(idx), extra)
            copy_no = np.arange(extra) // len(idx) + 1
            idx, variants = np.concatenate([idx, order]), np.concatenate([variants, copy_no.astype(np.int32)])
        out_idx.append(idx)
        out_var.append(variants)
    if not out_idx:
        return np.zeros(0, np.int64), np.zeros(0, np.int32)
    return np.concatenate(out_idx).astype(np.int64), np.concatenate(out_var)


@RESAMPLERS.register("both")
def cap_and_oversample(labels: np.ndarray, target: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Every class ends with exactly ``target`` images."""
    return _per_class(labels, target, seed, cap=True, fill=True)


@RESAMPLERS.register("cap")
def cap(labels: np.ndarray, target: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Classes above ``target`` are subsampled to it; smaller ones are left alone."""
    return _per_class(labels, target, seed, cap=True, fill=False)


@RESAMPLERS.register("oversample")
def oversample(labels: np.ndarray, target: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Classes below ``target`` are filled with varied copies; larger ones are left alone."""
    return _per_class(labels, target, seed, cap=False, fill=True)


def resample(labels: np.ndarray, *, target: int, mode: str = "both", seed: int = 0, min_count: int = 0,
             num_classes: int | None = None) -> Resampled:
    """Balance ``labels`` (one split) to ``target`` per class after dropping classes under ``min_count``.

    ``num_classes`` lets classes with no example at all in this split be dropped (and listed) too.
    """
    if target < 1:
        raise OptionError(f"--balance must be a positive number of images per class; got {target}")
    counts = np.bincount(labels, minlength=num_classes or 0)
    dropped = np.flatnonzero(counts < min_count).tolist() if min_count > 0 else []
    keep = np.flatnonzero(~np.isin(labels, dropped))
    idx, variants = RESAMPLERS.get(mode)(labels[keep], target, seed)
    order = np.lexsort((variants, keep[idx]))  # source order, each original followed by its copies
    return Resampled(keep[idx][order], variants[order], dropped)
