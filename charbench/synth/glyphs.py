"""Seeded pseudo-characters: each class a set of strokes, each sample drawn by a "writer".

A writer has its own slant, scale, stroke width and jitter, so samples of one class differ the way
handwriting does while staying learnable. Rendering uses OpenCV's anti-aliased polylines, an
implementation independent of charbench's own rasteriser (so tests do not check it against itself).
"""

from __future__ import annotations

import zlib

import cv2
import numpy as np


def _rng(*keys: int) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(str(k).encode()) for k in keys])


class GlyphGenerator:
    """``num_classes`` random stroke skeletons; ``strokes(label, writer, sample)`` varies one of them."""

    def __init__(self, num_classes: int, seed: int = 0):
        self.num_classes = num_classes
        self.seed = seed
        self.skeletons = [self._skeleton(c) for c in range(num_classes)]

    def _skeleton(self, label: int) -> list[np.ndarray]:
        rng = _rng(self.seed, label, 1)
        strokes = []
        for _ in range(rng.integers(2, 5)):
            n = int(rng.integers(2, 6))
            start = rng.uniform(0.1, 0.9, 2)
            steps = rng.normal(0, 0.3, (n - 1, 2))
            pts = np.clip(np.vstack([start, start + np.cumsum(steps, axis=0)]), 0.05, 0.95)
            strokes.append(pts)
        return strokes

    def writer_style(self, writer: int) -> dict:
        rng = _rng(self.seed, writer, 2)
        return {"slant": rng.uniform(-0.25, 0.25), "scale": rng.uniform(0.8, 1.0), "width": rng.uniform(0.06, 0.12),
                "jitter": rng.uniform(0.01, 0.035)}

    def strokes(self, label: int, writer: int, sample: int) -> list[np.ndarray]:
        """The strokes of one handwritten sample, as (x, y) points in [0, 1], y downwards."""
        style = self.writer_style(writer)
        rng = _rng(self.seed, label, writer, sample, 3)
        shear = np.array([[1.0, style["slant"]], [0.0, 1.0]]) * style["scale"]
        out = []
        for pts in self.skeletons[label]:
            p = (pts - 0.5) @ shear.T * 0.75 + 0.5 + rng.normal(0, style["jitter"], pts.shape)
            out.append(np.clip(p, 0.0, 1.0))
        return out

    def render(self, label: int, writer: int, sample: int, size: int = 28, *, ink: int = 255,
               background: int = 0, shape: tuple[int, int] | None = None) -> np.ndarray:
        """A uint8 image of one sample (``shape`` (h, w) for non-square images)."""
        h, w = shape or (size, size)
        img = np.full((h, w), background, np.uint8)
        width = max(1, round(self.writer_style(writer)["width"] * min(h, w)))
        for pts in self.strokes(label, writer, sample):
            xy = np.round(pts * [w - 1, h - 1] * 16).astype(np.int32)  # 4 fractional bits for smooth lines
            cv2.polylines(img, [xy.reshape(-1, 1, 2)], False, int(ink), width, cv2.LINE_AA, shift=4)
        return img

    def images(self, labels: np.ndarray, writers: np.ndarray, size: int = 28, **kw) -> np.ndarray:
        """Render a batch: sample number = position, so every image differs."""
        return np.stack([self.render(int(y), int(w), i, size, **kw) for i, (y, w) in enumerate(zip(labels, writers))]
                        ) if len(labels) else np.zeros((0, size, size), np.uint8)


def assign(num_classes: int, per_class: int, num_writers: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels and writers of a balanced synthetic corpus, shuffled reproducibly."""
    labels = np.repeat(np.arange(num_classes), per_class)
    rng = _rng(seed, 4)
    writers = rng.integers(0, num_writers, len(labels))
    order = rng.permutation(len(labels))
    return labels[order], writers[order]
