"""Kernels on the real scans in ../shared/data: Kuzushiji page crops, HPL Tamil TIFFs, KMNIST, Omniglot."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage.filters import threshold_sauvola

from charbench.kernels import Ragged, binarize, local_thresholds, normalize, otsu_thresholds

pytestmark = pytest.mark.realdata
OTSU = cv2.THRESH_BINARY + cv2.THRESH_OTSU


def kuzushiji_crops(root: Path, count: int = 60) -> list[np.ndarray]:
    """Character boxes cut from the first Kaggle page (dark ink on paper with bleed-through)."""
    base = root / "kuzushiji" / "kaggle-kuzushiji-recognition"
    with open(base / "train.csv", newline="") as f:
        row = next(csv.DictReader(f))
    page = cv2.imread(str(base / "train_images" / f"{row['image_id']}.jpg"), cv2.IMREAD_GRAYSCALE)
    fields = row["labels"].split()
    boxes = [tuple(int(v) for v in fields[i + 1 : i + 5]) for i in range(0, len(fields), 5)][:count]
    return [np.ascontiguousarray(page[y : y + h, x : x + w]) for x, y, w, h in boxes]


def tamil_tiffs(root: Path, count: int = 40) -> list[np.ndarray]:
    folder = root / "tamil" / "hpl-tamil-iso-char-offline-subset" / "tamil_dataset_offline"
    paths = sorted(folder.glob("usr_*/*.tiff"))[:count]
    return [np.array(Image.open(p).convert("L")) for p in paths]


def kmnist(root: Path, count: int = 300) -> np.ndarray:
    return np.load(root / "kuzushiji" / "kmnist" / "kmnist-test-imgs.npz")["arr_0"][:count]


def omniglot(root: Path, count: int = 20) -> list[np.ndarray]:
    with zipfile.ZipFile(root / "omniglot" / "images_background_small1.zip") as z:
        names = sorted(n for n in z.namelist() if n.endswith(".png") and "__MACOSX" not in n)[:count]
        return [np.array(Image.open(io.BytesIO(z.read(n))).convert("L")) for n in names]


def test_otsu_equals_opencv_on_real_images(real_data):
    imgs = kuzushiji_crops(real_data) + tamil_tiffs(real_data, 10) + list(kmnist(real_data, 200))
    batch = Ragged.from_list(imgs)
    for invert, view in (("no", lambda a: a), ("yes", lambda a: 255 - a)):
        ref = [cv2.threshold(view(a), 0, 255, OTSU)[0] for a in imgs]
        assert otsu_thresholds(batch, invert=invert).tolist() == ref
    out = binarize(batch, "otsu", invert="yes")
    for i, img in enumerate(imgs[:60]):
        np.testing.assert_array_equal(out[i], cv2.threshold(255 - img, 0, 255, OTSU)[1])


def test_sauvola_equals_scikit_image_on_real_crops(real_data):
    for crop in kuzushiji_crops(real_data, 8):
        ours = local_thresholds(crop, "sauvola")
        assert np.abs(ours - threshold_sauvola(crop, window_size=25, k=0.2)).max() <= 1.0


def test_polarity_on_real_data(real_data):
    crops, tiffs, km, omni = kuzushiji_crops(real_data), tamil_tiffs(real_data), kmnist(real_data), omniglot(real_data)
    for imgs, dark_ink in ((crops, True), (tiffs, True), (omni, True), (list(km), False)):
        batch = Ragged.from_list(imgs)
        auto = binarize(batch, "otsu", invert="auto")
        fixed = binarize(batch, "otsu", invert="yes" if dark_ink else "no")
        agree = np.mean([np.array_equal(auto[i], fixed[i]) for i in range(len(imgs))])
        assert agree >= 0.95
        assert np.mean(auto.flat == 255) < 0.4  # ink is white and the minority


def test_normalize_real_crops(real_data):
    crops = kuzushiji_crops(real_data)
    for method in ("otsu", "sauvola"):
        out = normalize(Ragged.from_list(crops), size=32, binarize=method)
        assert out.shape == (len(crops), 32, 32)
        peak = out.reshape(len(crops), -1).max(1)
        assert peak.min() > 0 and (peak >= 200).mean() > 0.95
        assert not out[:, 0, :].any() or (out[:, 0, :] > 0).mean() < 0.05  # margins stay mostly blank
    tiffs = normalize(Ragged.from_list(tamil_tiffs(real_data)), size=28)
    assert (tiffs.reshape(len(tiffs), -1).max(1) > 64).all()  # thin pen strokes shrink to grey, never vanish
