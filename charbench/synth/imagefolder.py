"""Synthetic class-per-folder image trees in the layouts people keep (torchvision ImageFolder, HF imagefolder, flat
folders with labels in the names), in a mix of formats and Pillow modes."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from charbench.synth.glyphs import GlyphGenerator, assign

# Every format and mode the imagefolder converter must read, cycled over the images.
FORMATS = (("png", "L"), ("png", "1"), ("jpg", "L"), ("bmp", "RGB"), ("tiff", "L"), ("webp", "RGB"), ("gif", "P"),
           ("png", "RGBA"), ("png", "P"))
_LOSSLESS = {"webp": {"lossless": True}, "jpg": {"quality": 95}}


def image_bytes(grey: np.ndarray, fmt: str, mode: str) -> bytes:
    """``grey`` (dark ink on white) encoded as ``fmt`` in Pillow ``mode`` (RGBA: the ink on a transparent canvas)."""
    im = Image.fromarray(grey, "L")
    if mode == "RGBA":
        rgba = np.zeros((*grey.shape, 4), np.uint8)
        rgba[..., 3] = 255 - grey  # ink opaque, paper transparent
        im = Image.fromarray(rgba, "RGBA")
    elif mode == "1":
        im = im.point(lambda v: 255 if v > 127 else 0).convert("1")
    elif mode != "L":
        im = im.convert(mode)
    buf = io.BytesIO()
    im.save(buf, format={"jpg": "JPEG", "tiff": "TIFF"}.get(fmt, fmt.upper()), **_LOSSLESS.get(fmt, {}))
    return buf.getvalue()


def write_image_folder(
    root: Path,
    *,
    num_classes: int = 4,
    per_class: int = 6,
    test_per_class: int = 2,
    layout: str = "split",
    size: int = 28,
    formats: tuple[tuple[str, str], ...] = (("png", "L"),),
    class_names: list[str] | None = None,
    junk: bool = True,
    zipped: bool = False,
    seed: int = 0,
) -> Path:
    """Write a tree of ``num_classes`` classes under ``root``; returns the path to pass as ``--source``.

    Args:
        layout: ``split`` (``<root>/train|test/<class>/<file>``), ``classes`` (``<root>/<class>/<file>``) or ``flat``
            (``<root>/<label>t<sample>.usr_<writer>.png``: the label and writer only in the name).
        formats: (suffix, Pillow mode) pairs cycled over the images (see FORMATS).
        class_names: folder names (default 0..num_classes-1).
        junk: add ``.DS_Store``, ``._*`` AppleDouble twins and a README.
        zipped: write ``<root>.zip`` holding the tree under one wrapper folder instead.
    """
    root = Path(root)
    names = class_names or [str(c) for c in range(num_classes)]
    gen = GlyphGenerator(num_classes, seed)
    files: dict[str, bytes] = {}
    k = 0
    for split, count in (("train", per_class), ("test", test_per_class)):
        labels, writers = assign(num_classes, count, 5, seed + (split == "test"))
        for i, (label, writer) in enumerate(zip(labels.tolist(), writers.tolist())):
            grey = gen.render(label, writer, i, size, ink=0, background=255)
            fmt, mode = formats[k % len(formats)]
            k += 1
            rel = _path(layout, split, names[label], label, writer, i, fmt)
            files[rel] = image_bytes(grey, fmt, mode)
    if junk:
        first = next(iter(files))
        files[".DS_Store"] = b"\x00\x00\x00\x01Bud1" + bytes(16)
        files[first.rpartition("/")[0] + "/._" + first.rpartition("/")[2]] = b"\x00\x05\x16\x07"
        files["README.txt"] = b"synthetic class-per-folder images"
    if zipped:
        path = root.with_suffix(".zip")
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w") as zf:
            for rel, data in files.items():
                zf.writestr(zipfile.ZipInfo(f"{root.name}/{rel}", (2020, 1, 1, 0, 0, 0)), data)
        return path
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def _path(layout: str, split: str, name: str, label: int, writer: int, i: int, fmt: str) -> str:
    if layout == "flat":
        return f"{split}/{label:03d}t{i:02d}.usr_{writer}.{fmt}"
    if layout == "classes":
        return f"{name}/{split}_{i:03d}.{fmt}"
    return f"{split}/{name}/{i:03d}.{fmt}"
