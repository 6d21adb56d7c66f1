"""A batch of variable-size 2-D uint8 images in one flat buffer (page crops, TIFFs, Omniglot PNGs)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Ragged:
    """``flat[offsets[i] : offsets[i] + h*w]`` reshaped to ``shapes[i] = (h, w)`` is image ``i``."""

    flat: np.ndarray  # uint8 [total]
    offsets: np.ndarray  # int64 [N]
    shapes: np.ndarray  # int64 [N, 2]

    def __len__(self) -> int:
        return len(self.offsets)

    def __getitem__(self, i: int) -> np.ndarray:
        h, w = (int(v) for v in self.shapes[i])
        start = int(self.offsets[i])
        return self.flat[start : start + h * w].reshape(h, w)

    @classmethod
    def from_dense(cls, images: np.ndarray) -> Ragged:
        """A ragged view of a dense ``uint8 [N, H, W]`` batch (no copy when it is C-contiguous)."""
        images = np.ascontiguousarray(images, dtype=np.uint8)
        n, h, w = images.shape
        offsets = np.arange(n, dtype=np.int64) * (h * w)
        shapes = np.tile(np.array([[h, w]], dtype=np.int64), (n, 1))
        return cls(images.reshape(-1), offsets, shapes)

    @classmethod
    def from_list(cls, images: list[np.ndarray]) -> Ragged:
        shapes = np.array([im.shape for im in images], dtype=np.int64).reshape(-1, 2)
        sizes = shapes[:, 0] * shapes[:, 1]
        offsets = np.zeros(len(images), dtype=np.int64)
        if len(images):
            np.cumsum(sizes[:-1], out=offsets[1:])
        flat = np.empty(int(sizes.sum()), dtype=np.uint8)
        for im, off, size in zip(images, offsets, sizes):
            flat[off : off + size] = np.asarray(im, dtype=np.uint8).ravel()
        return cls(flat, offsets, shapes)
