"""Synthetic HPL-style TIFF trees: black pseudo-characters on white, any size, with the junk real archives carry."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from charbench.synth.glyphs import GlyphGenerator, assign

LAYOUTS = ("nested", "flat", "loose")
# What macOS leaves in archives: resource-fork twins of real files, folder metadata, and the __MACOSX tree.
APPLEDOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(64)


def hpl_name(label: int, sample: int, writer: int, layout: str) -> str:
    """The relative path HPL gives a sample in ``layout`` (nested ``usr_W/NNNtSS.tiff``, flat, or loose)."""
    if layout == "nested":
        return f"usr_{writer}/{label:03d}t{sample:02d}.tiff"
    if layout == "flat":
        return f"{label:03d}t{sample:02d}.usr_{writer}.tiff"
    if layout == "loose":
        return f"{label:03d}t{sample:02d}.tiff"
    raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")


def tiff_bytes(img: np.ndarray, *, bits: int = 1, compression: str = "raw") -> bytes:
    """A grey ``uint8`` image as TIFF bytes: 1-bit (threshold 128, no dithering) or 8-bit, with any compression
    Pillow writes (raw, group4, tiff_lzw, tiff_deflate, packbits)."""
    import io

    im = Image.fromarray(img)
    if bits == 1:
        im = im.point(lambda v: 255 if v >= 128 else 0).convert("1", dither=Image.Dither.NONE)
    buf = io.BytesIO()
    im.save(buf, format="TIFF", compression=None if compression == "raw" else compression)
    return buf.getvalue()


def write_hpl_tiffs(
    root: Path,
    *,
    num_classes: int = 5,
    per_class: int = 6,
    num_writers: int = 8,
    seed: int = 0,
    layout: str = "nested",
    bits: int = 1,
    compression: str = "raw",
    junk: bool = True,
    test_writers: int = 0,
    sizes: tuple[int, int] = (40, 140),
) -> Path:
    """Write an HPL-style tree of ``num_classes * per_class`` TIFFs under ``root``; returns ``root``.

    Each sample has its own height and width in ``sizes`` (any aspect), black ink on white. Samples are numbered
    per (class, writer) from 1 (per class in the loose layout), so names never collide. With ``test_writers`` > 0
    the last writers go under ``test/`` and the rest under ``train/`` (the published-split layout). With ``junk``,
    an AppleDouble ``._`` twin of every fifth file, ``.DS_Store`` files and a ``__MACOSX/`` folder are added.
    """
    root = Path(root)
    gen = GlyphGenerator(num_classes, seed)
    labels, writers = assign(num_classes, per_class, num_writers, seed)
    rng = np.random.default_rng([seed, 7])
    trials: Counter = Counter()
    for k, (label, writer) in enumerate(zip(labels.tolist(), writers.tolist())):
        key = (label, writer if layout != "loose" else -1)  # loose names carry no writer: number per class
        trials[key] += 1
        rel = hpl_name(label, trials[key], writer, layout)
        if test_writers:
            rel = ("test/" if writer >= num_writers - test_writers else "train/") + rel
        h, w = (int(v) for v in rng.integers(sizes[0], sizes[1] + 1, 2))
        img = gen.render(label, writer, k, shape=(h, w), ink=0, background=255)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(tiff_bytes(img, bits=bits, compression=compression))
        if junk and k % 5 == 0:
            _apple_double(root, rel)
    if junk:
        for folder in [root, *sorted({p.parent for p in root.rglob("*.tiff")} - {root})[:2]]:
            (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + bytes(32))
    return root


def _apple_double(root: Path, rel: str) -> None:
    """The ``._`` resource-fork twin macOS writes beside a file, and its copy under ``__MACOSX/`` in zips."""
    folder, name = Path(rel).parent, "._" + Path(rel).name
    for path in (root / folder / name, root / "__MACOSX" / folder / name):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(APPLEDOUBLE)
