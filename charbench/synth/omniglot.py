"""Synthetic Omniglot: ``images_<set>/<Alphabet>/characterNN/NNNN_DD.png`` trees or zips, with matching stroke files.

Layout and encodings follow the published files: 105x105 one-bit PNGs, black ink on white; ``strokes_<set>/...txt``
files in the ``START`` / ``x,y,t`` / ``BREAK`` format (y pointing up); ``NNNN`` numbers characters across all sets
from 0001, ``DD`` is the drawer 01..20. Zips hold their top folder and directory entries, like the published ones,
and (by default) the macOS junk real archives carry: ``.DS_Store`` files and ``__MACOSX/`` AppleDouble ``._*`` files.
The same pseudo-character generator as every other synthetic format draws them, so the demo and the tests agree.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from charbench.io.omniglot_strokes import format_strokes
from charbench.synth.glyphs import GlyphGenerator

SETS = ("background", "evaluation")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed entry dates keep the zips byte-identical between runs


def alphabet_names(subset: str, count: int) -> list[str]:
    """Alphabet folder names of a synthetic set; the second one has parentheses, as several real ones do."""
    tag = "Bg" if subset == "background" else "Ev"
    return [f"{tag}_Script_{i + 1:02d}" + ("_(cursive)" if i == 1 else "") for i in range(count)]


def write_omniglot(
    root: Path,
    *,
    num_alphabets: int = 3,
    characters: int = 4,
    drawers: int = 20,
    seed: int = 0,
    sets: tuple[str, ...] = ("background",),
    zipped: bool = False,
    strokes: bool = True,
    junk: bool = True,
    size: int = 105,
) -> Path:
    """Write synthetic Omniglot sets under ``root``; returns ``root``.

    Args:
        root: Folder to write into (created).
        num_alphabets: Alphabets per set.
        characters: Characters per alphabet.
        drawers: Drawings per character (drawer ids 01..drawers; drawer ``d`` has the same style everywhere).
        seed: Seed of the pseudo-character generator.
        sets: Any of ``"background"``, ``"evaluation"``.
        zipped: Write ``images_<set>.zip`` / ``strokes_<set>.zip`` instead of folders.
        strokes: Also write the stroke files.
        junk: Add ``.DS_Store`` and AppleDouble files (under ``__MACOSX/`` in zips).
        size: Side of the PNGs.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    total = len(sets) * num_alphabets * characters
    gen = GlyphGenerator(total, seed)
    number = 0
    for subset in sets:
        images: dict[str, bytes] = {}
        texts: dict[str, bytes] = {}
        for alphabet in alphabet_names(subset, num_alphabets):
            for c in range(characters):
                for d in range(1, drawers + 1):
                    rel = f"{alphabet}/character{c + 1:02d}/{number + 1:04d}_{d:02d}"
                    images[rel + ".png"] = png_bytes(gen.render(number, d, d, size, ink=0, background=255))
                    pts = [p * (size - 1) for p in gen.strokes(number, d, d)]
                    texts[rel + ".txt"] = format_strokes(pts).encode()
                number += 1
        _write_set(root, f"images_{subset}", images, zipped, junk)
        if strokes:
            _write_set(root, f"strokes_{subset}", texts, zipped, junk)
    return root


def png_bytes(grey: np.ndarray) -> bytes:
    """A one-bit PNG of a grey image (threshold 128), as the published Omniglot PNGs are stored."""
    buf = io.BytesIO()
    Image.fromarray(grey >= 128).save(buf, format="PNG")
    return buf.getvalue()


def _write_set(root: Path, top: str, files: dict[str, bytes], zipped: bool, junk: bool) -> None:
    if junk:
        first_alphabet = next(iter(files)).split("/")[0]
        extra = {".DS_Store": b"\x00\x00\x00\x01Bud1", f"{first_alphabet}/.DS_Store": b"\x00\x00\x00\x01Bud1"}
    else:
        extra = {}
    if not zipped:
        for rel, data in {**files, **extra}.items():
            path = root / top / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        if junk:  # AppleDouble twin of the first file, as macOS leaves on non-HFS volumes
            first = Path(next(iter(files)))
            (root / top / first.parent / f"._{first.name}").write_bytes(b"\x00\x05\x16\x07")
        return
    with zipfile.ZipFile(root / f"{top}.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        folders = sorted({f"{top}/" + "/".join(rel.split("/")[:i]) + "/" for rel in files for i in (1, 2)})
        for name in [f"{top}/"] + folders:
            zf.writestr(zipfile.ZipInfo(name, _ZIP_TIME), b"")
        for rel, data in {**files, **extra}.items():
            zf.writestr(zipfile.ZipInfo(f"{top}/{rel}", _ZIP_TIME), data, zipfile.ZIP_DEFLATED)
        if junk:
            for name, data in extra.items():
                zf.writestr(zipfile.ZipInfo(f"__MACOSX/{top}/{_apple_double(name)}", _ZIP_TIME), data)


def _apple_double(rel: str) -> str:
    parent, _, name = rel.rpartition("/")
    return f"{parent}/._{name}" if parent else f"._{name}"
