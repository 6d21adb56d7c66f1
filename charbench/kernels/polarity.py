"""Ink polarity and ink coverage of a batch: which images are dark ink on light paper, and how much of each is ink.

The per-image rule is the one ``invert="auto"`` applies inside binarisation: the one-pixel frame decides when at
least three quarters of it lies on one side of mid-grey, otherwise the median grey level does (ink covers less than
half of a character image, so the median is paper). ``prepare`` votes with it over a sample to fix a whole dataset's
polarity when the output stays pixel-exact; ``verify`` and ``inspect`` use it to warn about shards whose background
looks white.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from charbench.errors import OptionError
from charbench.kernels._jit import jit
from charbench.kernels._layout import as_flat
from charbench.kernels.ragged import Ragged
from charbench.kernels.threshold import frame_vote, histogram, median_is_bright

# A dataset is called dark ink on light when at least this share of its sampled images vote so (light ink when at
# most 1 - this share); in between its polarity is undecided and prepare asks for --invert.
DECIDED_SHARE = 0.8


@jit(parallel=True)
def polarity_batch(flat, offsets, shapes, dark, ink):
    """``dark[i]`` = 1 when image i is dark ink on light paper, else 0; ``ink[i]`` = its share of pixels above
    mid-grey (of white ink on black, the ink coverage)."""
    for i in prange(offsets.shape[0]):
        h, w = shapes[i, 0], shapes[i, 1]
        n = h * w
        src = flat[offsets[i] : offsets[i] + n]
        bright = 0
        for j in range(n):
            bright += src[j] > 127
        ink[i] = bright / n if n else 0.0
        vote = frame_vote(src, h, w) if n else -1
        if vote == 0:
            hist4 = np.empty((4, 256), np.int32)
            hist = np.empty(256, np.int64)
            histogram(src, hist4, hist)
            vote = 1 if median_is_bright(hist, n) else -1
        dark[i] = 1 if vote == 1 else 0
    return dark, ink


def polarity(batch: np.ndarray | Ragged) -> tuple[np.ndarray, np.ndarray]:
    """Per image of a dense ``uint8 [N, H, W]`` or Ragged batch: (dark ink on light? bool [N], bright share [N])."""
    fb = as_flat(batch)
    n = len(fb.offsets)
    dark, ink = np.zeros(n, np.uint8), np.zeros(n, np.float64)
    polarity_batch(fb.flat, fb.offsets, fb.shapes, dark, ink)
    return dark.astype(bool), ink


def dataset_invert(sample: np.ndarray | Ragged, what: str) -> tuple[str, dict]:
    """``"yes"`` or ``"no"``: whether a whole dataset, seen through ``sample``, must be inverted to be white ink on
    black; and the vote, for index.json.

    Raises:
        OptionError: the sample is split between the two polarities, naming the fix (``--invert yes|no``).
    """
    dark, _ = polarity(sample)
    n = len(dark)
    share = float(dark.mean()) if n else 0.0
    vote = {"sampled_images": n, "dark_ink_share": round(share, 4), "rule": "frame, else median, per image"}
    if share >= DECIDED_SHARE:
        return "yes", {**vote, "detected": "dark ink on a light background (inverted)"}
    if share <= 1 - DECIDED_SHARE:
        return "no", {**vote, "detected": "light ink on a dark background (kept)"}
    raise OptionError(
        f"cannot tell the ink polarity of {what}: {share:.0%} of {n} sampled images look like dark ink on a light "
        f"background and the rest like light ink on dark; pass --invert yes (dark ink) or --invert no (light ink), "
        "or normalise per image with --binarize/--size (each image's polarity is then fixed on its own)")


class InkTally:
    """Ink coverage and polarity of a split, added up batch by batch (``verify`` and ``inspect`` report it)."""

    # a split is said to look white when more than this share of its images are dark ink on light paper
    WHITE_SHARE = 0.5

    def __init__(self) -> None:
        self.images, self.dark, self.ink = 0, 0, 0.0

    def add(self, batch: np.ndarray | Ragged) -> None:
        dark, ink = polarity(batch)
        self.images += len(dark)
        self.dark += int(dark.sum())
        self.ink += float(ink.sum())

    def as_dict(self) -> dict:
        n = max(self.images, 1)
        return {"images": self.images, "ink_fraction": round(self.ink / n, 4),
                "white_background_share": round(self.dark / n, 4)}

    def warning(self, where: str) -> str | None:
        """A warning when the background looks white (the shard contract is white ink 255 on black 0)."""
        if self.images and self.dark / self.images > self.WHITE_SHARE:
            return (f"{where}: the background looks white in {self.dark / self.images:.0%} of {self.images:,} images "
                    "(shards hold white ink on black); prepare again with --invert yes, or check the raw files")
        return None
