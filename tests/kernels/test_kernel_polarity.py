"""Ink polarity: the per-image vote equals binarisation's auto rule; the dataset vote and its undecided case."""

import numpy as np
import pytest

from charbench.errors import OptionError
from charbench.kernels import binarize
from charbench.kernels.polarity import dataset_invert, polarity, polarity_batch
from charbench.kernels.ragged import Ragged


def glyphs(n: int, dark: bool, rng) -> np.ndarray:
    x = np.zeros((n, 20, 20), np.uint8)
    for i in range(n):
        r, c = rng.integers(3, 10, 2)
        x[i, r : r + 8, c : c + 3] = 255
    return 255 - x if dark else x


def test_vote_matches_binarize_auto_and_the_python_kernel():
    rng = np.random.default_rng(0)
    batch = np.concatenate([glyphs(20, True, rng), glyphs(20, False, rng),
                            rng.integers(0, 256, (10, 20, 20), dtype=np.uint8)])
    dark, ink = polarity(batch)
    # binarize(invert=auto, method none) inverts exactly the images voted dark
    flipped = (binarize(batch, "none", invert="auto") != batch).reshape(len(batch), -1).any(1)
    np.testing.assert_array_equal(dark, flipped)
    assert dark[:20].all() and not dark[20:40].any()
    np.testing.assert_allclose(ink, (batch > 127).reshape(len(batch), -1).mean(1))
    from charbench.kernels._layout import as_flat

    fb = as_flat(batch)
    d2, i2 = np.zeros(len(batch), np.uint8), np.zeros(len(batch))
    polarity_batch.py_func(fb.flat, fb.offsets, fb.shapes, d2, i2)
    np.testing.assert_array_equal(d2.astype(bool), dark)
    np.testing.assert_allclose(i2, ink)


def test_edge_shapes_and_ragged():
    dark, ink = polarity(Ragged.from_list([np.zeros((1, 1), np.uint8), np.full((2, 5), 255, np.uint8),
                                           np.zeros((0, 4), np.uint8)]))
    assert dark.tolist() == [False, True, False] and ink.tolist() == [0.0, 1.0, 0.0]


def test_dataset_vote():
    rng = np.random.default_rng(1)
    assert dataset_invert(glyphs(30, True, rng), "d")[0] == "yes"
    invert, vote = dataset_invert(np.concatenate([glyphs(28, False, rng), glyphs(2, True, rng)]), "d")
    assert invert == "no" and vote["sampled_images"] == 30 and vote["dark_ink_share"] == pytest.approx(2 / 30, abs=1e-4)
    with pytest.raises(OptionError, match=r"cannot tell the ink polarity of mixed: 50% of 20.*--invert yes"):
        dataset_invert(np.concatenate([glyphs(10, False, rng), glyphs(10, True, rng)]), "mixed")
