"""normalize: crop to ink, area resize (cv2.INTER_AREA parity), centring, empty images, edge shapes, py_func parity."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from charbench.errors import FormatError, OptionError
from charbench.kernels import Ragged, binarize, normalize
from charbench.kernels.normalization import normalize_batch
from charbench.kernels.options import C_BOX, C_MASS, binarize_codes
from charbench.kernels.resize import area_resize, area_table, fit_image, ink_box, place


def resize_with_kernel(img: np.ndarray, th: int, tw: int, py: bool = False) -> np.ndarray:
    h, w = img.shape
    side = max(th, tw)
    idx, wts = np.zeros((4, side), np.int64), np.zeros((4, side))
    tmp, patch = np.zeros((h, tw)), np.zeros((th, tw))
    fn = area_resize.py_func if py else area_resize
    fn(img.reshape(-1).copy(), w, 0, h, 0, w, th, tw, idx, wts, tmp, patch)
    return patch


@pytest.mark.parametrize("factor", [1, 2, 3, 4, 5, 8])
def test_area_resize_matches_cv2_inter_area_on_integer_factors(factor):
    rng = np.random.default_rng(factor)
    for th, tw in ((7, 5), (12, 12), (1, 9)):
        img = rng.integers(0, 256, (th * factor, tw * factor), dtype=np.uint8)
        ours = np.floor(resize_with_kernel(img, th, tw) + 0.5)
        ref = cv2.resize(img, (tw, th), interpolation=cv2.INTER_AREA)
        assert np.abs(ours - ref).max() <= 1


def test_area_resize_preserves_mean_on_any_factor():
    rng = np.random.default_rng(11)
    for h, w, th, tw in ((37, 53, 11, 17), (10, 13, 24, 30), (200, 7, 24, 1)):
        img = rng.integers(0, 256, (h, w), dtype=np.uint8)
        patch = resize_with_kernel(img, th, tw)
        assert abs(patch.mean() - img.mean()) < 1e-9 * 255 + 1e-6


def test_identity_path_is_pixel_exact():
    rng = np.random.default_rng(12)
    x = rng.integers(0, 256, (6, 28, 28), dtype=np.uint8)
    np.testing.assert_array_equal(normalize(x, size=None, binarize="none", center="none", invert="no"), x)
    np.testing.assert_array_equal(normalize(x, size=28, binarize="none", center="none", invert="no"), x)
    wide = rng.integers(0, 256, (2, 5, 9), dtype=np.uint8)
    np.testing.assert_array_equal(normalize(wide, size=None, binarize="none", center="none", invert="no"), wide)


def test_empty_images_come_out_all_zero():
    blank = [np.zeros((9, 14), np.uint8), np.full((30, 20), 255, np.uint8), np.full((3, 3), 128, np.uint8)]
    blank += [np.zeros((0, 4), np.uint8), np.full((1, 1), 255, np.uint8)]
    for method in ("otsu", "sauvola", "niblack", "none"):
        out = normalize(Ragged.from_list(blank), size=16, binarize=method)
        assert out.shape == (5, 16, 16) and out.dtype == np.uint8
        assert not out[:2].any() and not out[3:].any()  # the all-128 grey square is ink only for "none"


def test_longer_side_fits_and_aspect_is_kept():
    img = np.zeros((1, 60, 60), np.uint8)
    img[0, 20:30, 5:45] = 255  # 10 x 40 ink box
    for center in ("mass", "box"):
        out = normalize(img, size=28, margin=2, center=center, invert="no")[0]
        ys, xs = np.nonzero(out)
        assert xs.max() - xs.min() + 1 == 24 and ys.max() - ys.min() + 1 == 6
        assert set(np.unique(out)) == {0, 255}


def test_center_of_mass_lands_in_the_middle():
    rng = np.random.default_rng(13)
    img = np.zeros((40, 40), np.uint8)
    img[5:35, 8:12] = 255  # a stem ...
    img[28:35, 8:30] = 255  # ... with a foot: an L whose mass sits low and left of its box centre
    out = normalize(img[None], size=28, margin=4, center="mass", invert="no")[0].astype(float)
    m = out.sum()
    cy, cx = (np.arange(28)[:, None] * out).sum() / m + 0.5, (np.arange(28)[None, :] * out).sum() / m + 0.5
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5
    box = normalize(img[None], size=28, margin=4, center="box", invert="no")[0]
    ys, xs = np.nonzero(box)
    assert ys.min() + ys.max() in (26, 27) and xs.min() + xs.max() in (26, 27)
    assert not np.array_equal(out, box)
    noise = rng.integers(0, 2, (40, 40), dtype=np.uint8)
    assert normalize((img * noise)[None], size=28, invert="no").any()


def test_mass_centring_never_cuts_ink():
    img = np.zeros((50, 50), np.uint8)
    img[0:50, 0:3] = 255
    img[0:6, 0:50] = 255  # heavy top bar: centring the mass would push the stem's foot off the frame
    mass = normalize(img[None], size=28, margin=0, center="mass", invert="no")[0]
    box = normalize(img[None], size=28, margin=0, center="box", invert="no")[0]
    assert int(mass.sum()) == int(box.sum())


def test_ragged_equals_dense_and_per_image():
    rng = np.random.default_rng(14)
    dense = rng.integers(0, 256, (12, 23, 31), dtype=np.uint8)
    dense[dense < 170] = 20
    for kw in ({}, {"binarize": "sauvola", "center": "box"}, {"binarize": "none", "margin": 0}):
        np.testing.assert_array_equal(
            normalize(Ragged.from_list(list(dense)), size=20, **kw), normalize(dense, size=20, **kw)
        )
    imgs = [rng.integers(0, 256, tuple(rng.integers(1, 80, 2)), dtype=np.uint8) for _ in range(30)]
    out = normalize(Ragged.from_list(imgs), size=24)
    for i, img in enumerate(imgs):
        np.testing.assert_array_equal(out[i], normalize(img[None], size=24)[0])


@pytest.mark.parametrize("shape", [(1, 1), (1, 200), (200, 1), (3, 150), (64, 2)])
def test_thin_wide_and_tiny_images(shape):
    img = np.full(shape, 255, np.uint8)
    out = normalize(img[None], size=28, binarize="none", invert="no", margin=2)[0]
    ys, xs = np.nonzero(out)
    assert max(ys.max() - ys.min(), xs.max() - xs.min()) + 1 == 24
    assert out.min() == 0


def test_binarised_before_resizing_keeps_grey_antialiasing():
    img = np.zeros((1, 90, 90), np.uint8)
    cv2.circle(img[0], (45, 45), 30, 255, 3)
    out = normalize(img, size=28, invert="no")
    assert ((out > 0) & (out < 255)).any()  # area resampling of a binary image gives grey edges


def test_option_errors():
    x = np.zeros((2, 10, 12), np.uint8)
    with pytest.raises(OptionError):
        normalize(Ragged.from_list(list(x)), size=None)
    with pytest.raises(OptionError):
        normalize(x, size=None)  # not square: needs a size to centre into
    with pytest.raises(OptionError):
        normalize(x, size=10, center="none")
    with pytest.raises(OptionError):
        normalize(x, size=8, margin=4)
    with pytest.raises(OptionError):
        normalize(x, size=0)
    with pytest.raises(OptionError):
        normalize(x, size=8, center="middle")
    with pytest.raises(OptionError):
        normalize(x, size=8, binarize="sauvola:4")
    with pytest.raises(FormatError):
        normalize(x.astype(np.int16), size=8)


def test_kernel_parity_with_py_func():
    rng = np.random.default_rng(15)
    for shape in ((1, 1), (5, 5), (9, 13), (1, 12), (12, 1)):
        for fill in ("random", "zero", "full"):
            img = {"random": rng.integers(0, 2, shape) * 255, "zero": np.zeros(shape), "full": np.full(shape, 255)}[
                fill
            ]
            flat = img.astype(np.uint8).reshape(-1)
            assert ink_box(flat, *shape) == ink_box.py_func(flat, *shape)
            outs = [np.empty((8, 8), np.uint8) for _ in range(4)]
            scratch = [
                (np.empty((4, 6), np.int64), np.empty((4, 6)), np.empty((13, 6)), np.empty((6, 6))) for _ in range(4)
            ]
            fit_image(flat, *shape, 8, 1, C_MASS, *scratch[0], outs[0])
            fit_image.py_func(flat, *shape, 8, 1, C_MASS, *scratch[1], outs[1])
            fit_image(flat, *shape, 8, 1, C_BOX, *scratch[2], outs[2])
            fit_image.py_func(flat, *shape, 8, 1, C_BOX, *scratch[3], outs[3])
            np.testing.assert_array_equal(outs[0], outs[1])
            np.testing.assert_array_equal(outs[2], outs[3])
    img = rng.integers(0, 256, (11, 7), dtype=np.uint8)
    np.testing.assert_array_equal(resize_with_kernel(img, 4, 3), resize_with_kernel(img, 4, 3, py=True))
    np.testing.assert_array_equal(resize_with_kernel(img, 15, 9), resize_with_kernel(img, 15, 9, py=True))
    tables = [(np.empty((4, 5), np.int64), np.empty((4, 5))) for _ in range(2)]
    area_table(13, 5, tables[0][0][0:2], tables[0][1][0:2])
    area_table.py_func(13, 5, tables[1][0][0:2], tables[1][1][0:2])
    np.testing.assert_array_equal(tables[0][0][:2], tables[1][0][:2])
    np.testing.assert_array_equal(tables[0][1][:2], tables[1][1][:2])
    patch = rng.random((4, 3)) * 255
    frames = [np.empty((9, 9), np.uint8) for _ in range(2)]
    place(patch, 4, 3, 9, C_MASS, frames[0])
    place.py_func(patch, 4, 3, 9, C_MASS, frames[1])
    np.testing.assert_array_equal(*frames)


@pytest.mark.parametrize("method", ["otsu", "sauvola:5,0.2", "none"])
def test_batch_kernel_parity_with_py_func(method):
    rng = np.random.default_rng(16)
    imgs = [rng.integers(0, 256, tuple(rng.integers(1, 12, 2)), dtype=np.uint8) for _ in range(10)]
    imgs += [np.zeros((3, 4), np.uint8), np.full((2, 2), 255, np.uint8)]
    r = Ragged.from_list(imgs)
    code, t, win, k, rr = binarize_codes(method)
    args = (r.flat, r.offsets, r.shapes, code, t, win, k, rr, 0, 10, 1, C_MASS)
    out = normalize_batch(*args, np.empty((12, 10, 10), np.uint8))
    ref = normalize_batch.py_func(*args, np.empty((12, 10, 10), np.uint8))
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(out, normalize(r, size=10, binarize=method, margin=1))
    assert binarize(r, method).flat.shape == r.flat.shape
