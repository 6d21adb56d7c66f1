"""Binarisation: OpenCV-exact Otsu, scikit-image-equal Sauvola/Niblack, polarity, bleed-through, edge shapes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage.filters import threshold_niblack, threshold_sauvola

from charbench.errors import FormatError, OptionError
from charbench.kernels import Ragged, binarize, local_thresholds, otsu_thresholds

OTSU = cv2.THRESH_BINARY + cv2.THRESH_OTSU
METHODS = ["none", "otsu", "fixed:100", "sauvola", "sauvola:7,0.3", "niblack", "niblack:5,-0.1"]


def glyphs(rng: np.random.Generator, n: int, h: int, w: int, dark_ink: bool) -> np.ndarray:
    """Character-like images: a few thick random strokes on a noisy background."""
    out = np.empty((n, h, w), np.uint8)
    for i in range(n):
        img = np.full((h, w), 20, np.uint8)
        for _ in range(3):
            p, q = rng.integers(0, (w, h), 2), rng.integers(0, (w, h), 2)
            cv2.line(img, tuple(int(v) for v in p), tuple(int(v) for v in q), 230, max(1, min(h, w) // 8))
        noisy = img.astype(int) + rng.integers(-15, 16, (h, w))
        out[i] = np.clip(noisy, 0, 255)
    return 255 - out if dark_ink else out


def edge_images() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [
        np.zeros((1, 1), np.uint8),
        np.full((1, 1), 200, np.uint8),
        np.zeros((5, 5), np.uint8),
        np.full((6, 4), 255, np.uint8),
        rng.integers(0, 256, (1, 40), dtype=np.uint8),
        rng.integers(0, 256, (37, 1), dtype=np.uint8),
        rng.integers(0, 256, (2, 90), dtype=np.uint8),
        rng.integers(0, 256, (3, 3), dtype=np.uint8),
    ]


def test_otsu_thresholds_equal_opencv_on_random_images():
    rng = np.random.default_rng(0)
    imgs = [rng.integers(0, 256, (17, 23), dtype=np.uint8) for _ in range(150)]
    imgs += [(rng.random((20, 20)) < rng.random()).astype(np.uint8) * 255 for _ in range(40)]  # two levels: ties
    imgs += [(rng.integers(0, 4, (9, 31)) * rng.integers(1, 80)).astype(np.uint8) for _ in range(40)]
    imgs += [rng.normal(rng.integers(40, 200), 12, (32, 32)).clip(0, 255).astype(np.uint8) for _ in range(40)]
    imgs += [np.clip(i, 0, 255).astype(np.uint8) for i in glyphs(rng, 30, 28, 28, dark_ink=True)]
    imgs += edge_images()
    batch = Ragged.from_list(imgs)
    for invert, view in (("no", lambda a: a), ("yes", lambda a: 255 - a)):
        ours = otsu_thresholds(batch, invert=invert)
        ref = [cv2.threshold(view(a), 0, 255, OTSU)[0] for a in imgs]
        assert ours.tolist() == ref


def test_otsu_binarize_equals_opencv_threshold_output():
    rng = np.random.default_rng(1)
    dense = rng.integers(0, 256, (64, 12, 19), dtype=np.uint8)
    dense[:16] = glyphs(rng, 16, 12, 19, dark_ink=False)
    for invert, view in (("no", lambda a: a), ("yes", lambda a: 255 - a)):
        out = binarize(dense, "otsu", invert=invert)
        ref = np.stack([cv2.threshold(view(a), 0, 255, OTSU)[1] for a in dense])
        np.testing.assert_array_equal(out, ref)


def test_fixed_and_none():
    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, (5, 9, 7), dtype=np.uint8)
    np.testing.assert_array_equal(binarize(x, "none", invert="no"), x)
    np.testing.assert_array_equal(binarize(x, "none", invert="yes"), 255 - x)
    np.testing.assert_array_equal(binarize(x, "fixed:100", invert="no"), np.where(x > 100, 255, 0))
    np.testing.assert_array_equal(binarize(x, "fixed:100", invert="yes"), np.where(255 - x > 100, 255, 0))


def test_auto_polarity_gives_white_ink_on_black():
    rng = np.random.default_rng(4)
    white = glyphs(rng, 20, 30, 24, dark_ink=False)
    dark = 255 - white
    for method in ("none", "otsu", "sauvola", "fixed:128"):
        out_white = binarize(white, method, invert="auto")
        np.testing.assert_array_equal(out_white, binarize(white, method, invert="no"))
        np.testing.assert_array_equal(binarize(dark, method, invert="auto"), binarize(dark, method, invert="yes"))
    ink = binarize(dark, "otsu")
    assert set(np.unique(ink)) <= {0, 255}
    assert 0.02 < (ink == 255).mean() < 0.5  # ink is the minority after inversion
    assert (ink[:, 0, :] == 0).mean() > 0.7  # the paper border became background


def test_auto_polarity_thick_ink_crop_uses_the_paper_frame():
    img = np.full((20, 20), 230, np.uint8)
    img[2:18, 2:18] = 10  # ink covers 64 % of the crop: the median alone would call it paper
    out = binarize(img[None], "otsu")[0]
    assert out[5, 5] == 255 and out[0, 0] == 0


def test_local_thresholds_match_scikit_image():
    rng = np.random.default_rng(5)
    imgs = [glyphs(rng, 1, 40, 52, dark_ink=True)[0], rng.integers(0, 256, (33, 21), dtype=np.uint8)]
    imgs += [rng.integers(0, 256, (7, 9), dtype=np.uint8), rng.integers(0, 256, (1, 30), dtype=np.uint8)]
    imgs += [np.full((6, 6), 255, np.uint8), rng.integers(0, 256, (2, 2), dtype=np.uint8)]
    for img in imgs:
        for w, k in ((25, 0.2), (15, 0.5), (3, -0.2)):
            ours = local_thresholds(img, f"sauvola:{w},{k}")
            np.testing.assert_allclose(ours, threshold_sauvola(img, window_size=w, k=k), atol=1.0, rtol=0)
            assert np.abs(ours - threshold_sauvola(img, window_size=w, k=k)).max() < 1e-6
            ours = local_thresholds(img, f"niblack:{w},{k}")
            assert np.abs(ours - threshold_niblack(img, window_size=w, k=k)).max() < 1e-6


@pytest.mark.parametrize("method", ["sauvola", "niblack"])
def test_local_binarize_agrees_with_scikit_image(method):
    rng = np.random.default_rng(6)
    dark = glyphs(rng, 6, 36, 44, dark_ink=True)
    ref_fn = threshold_sauvola if method == "sauvola" else threshold_niblack
    out = binarize(dark, method, invert="yes")
    for img, got in zip(dark, out):
        t = ref_fn(img, window_size=25, k=0.2)
        clear = np.abs(img - t) > 1.0  # within one grey level of the threshold either answer is fine
        np.testing.assert_array_equal(got[clear], np.where(img <= t, 255, 0)[clear])
    # the same image given white-on-black with invert="no" gives the same ink
    np.testing.assert_array_equal(binarize(255 - dark, method, invert="no"), out)


def _bleed_page(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Paper with dark strokes and a faint mirrored layer of other strokes showing through."""
    h, w = 120, 160
    strong, faint = np.zeros((h, w), np.uint8), np.zeros((h, w), np.uint8)
    for mask, count in ((strong, 6), (faint, 8)):
        for _ in range(count):
            p, q = rng.integers(10, (w - 10, h - 10), 2), rng.integers(10, (w - 10, h - 10), 2)
            cv2.line(mask, tuple(int(v) for v in p), tuple(int(v) for v in q), 1, 3)
    faint = faint[:, ::-1]  # the back of the page shows through mirrored
    page = np.full((h, w), 215.0) + rng.normal(0, 3, (h, w))
    page[faint == 1] = 178 + rng.normal(0, 3, int(faint.sum()))
    page[strong == 1] = 45 + rng.normal(0, 8, int(strong.sum()))
    return page.clip(0, 255).astype(np.uint8), strong == 1, (faint == 1) & (strong == 0)


def test_sauvola_suppresses_bleed_through():
    page, strong, faint = _bleed_page(np.random.default_rng(7))
    out = binarize(page[None], "sauvola")[0]
    assert (out[faint] == 255).mean() < 0.02
    assert (out[strong] == 255).mean() > 0.95
    paper = ~strong & ~faint
    assert (out[paper] == 255).mean() < 0.01


def test_ragged_equals_dense_and_per_image():
    rng = np.random.default_rng(8)
    dense = glyphs(rng, 20, 21, 17, dark_ink=True)
    imgs = [rng.integers(0, 256, tuple(rng.integers(1, 60, 2)), dtype=np.uint8) for _ in range(25)]
    for method in METHODS:
        as_ragged = binarize(Ragged.from_list(list(dense)), method)
        np.testing.assert_array_equal(as_ragged.flat, binarize(dense, method).reshape(-1))
        out = binarize(Ragged.from_list(imgs), method)
        for i, img in enumerate(imgs):
            np.testing.assert_array_equal(out[i], binarize(img[None], method)[0])


@pytest.mark.parametrize("method", METHODS)
def test_edge_shapes(method):
    for img in edge_images():
        out = binarize(img[None], method)[0]
        assert out.shape == img.shape
        if method != "none":
            assert set(np.unique(out)) <= {0, 255}
        if img.min() == img.max():  # one grey level: no ink, whichever way it is read
            assert method == "none" or method.startswith("fixed") or not out.any()


def test_blank_pages_are_empty():
    for value in (0, 255, 200):
        for method in ("otsu", "sauvola", "niblack"):
            assert not binarize(np.full((2, 30, 30), value, np.uint8), method).any()


def test_readonly_and_noncontiguous_inputs():
    rng = np.random.default_rng(9)
    base = rng.integers(0, 256, (4, 20, 30), dtype=np.uint8)
    ro = base.copy()
    ro.flags.writeable = False
    np.testing.assert_array_equal(binarize(ro), binarize(base))
    np.testing.assert_array_equal(binarize(base[:, :, ::2]), binarize(np.ascontiguousarray(base[:, :, ::2])))


def test_empty_batch():
    assert binarize(np.zeros((0, 5, 5), np.uint8)).shape == (0, 5, 5)
    assert len(binarize(Ragged.from_list([]))) == 0


def test_errors():
    with pytest.raises(FormatError):
        binarize(np.zeros((3, 3), np.uint8))
    with pytest.raises(FormatError):
        binarize(np.zeros((1, 3, 3), np.float32))
    with pytest.raises(OptionError):
        binarize(np.zeros((1, 3, 3), np.uint8), "otsu:3")
    with pytest.raises(OptionError):
        binarize(np.zeros((1, 3, 3), np.uint8), invert="maybe")
    bad = Ragged(np.zeros(10, np.uint8), np.array([0, 5]), np.array([[2, 2], [3, 3]]))
    with pytest.raises(FormatError):
        binarize(bad)
    with pytest.raises(OptionError):
        otsu_thresholds(np.zeros((1, 3, 3), np.uint8), invert="auto")
    with pytest.raises(OptionError):
        local_thresholds(np.zeros((3, 3), np.uint8), "otsu")
