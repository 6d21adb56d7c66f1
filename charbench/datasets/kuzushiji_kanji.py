"""Kuzushiji-Kanji (Clanuwat et al. 2018): 140,424 kanji images in 3,832 classes, very imbalanced.

Homepage: github.com/rois-codh/kmnist (Kuzushiji-Kanji, ``kkanji.tar``). License: CC BY-SA 4.0 (ROIS-DS CODH / NIJL).
Citation: Clanuwat, Bober-Irizar, Kitamoto, Lamb, Yamamoto, Ha (2018), "Deep Learning for Classical Japanese
Literature", arXiv:1812.01718.

Raw format: a folder tree (or a tar/zip of it, read without extracting) ``kkanji2/U+XXXX/<id>.png``: one folder per
codepoint, 64x64 grey PNGs, white ink on black. There is no published split and no writer or page id, so the default
split is a stratified ``random`` one. Class names are the characters, sorted by codepoint. ``source_ids`` number the
PNG files in sorted path order (files that do not fit the layout included), so they do not depend on what is skipped.
"""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np

from charbench.datasets.base import Catalog, ClassInfo, Converter, Defaults, register_dataset
from charbench.errors import FormatError
from charbench.io.folder_tree import Layout, Level, list_tree
from charbench.kernels.ragged import Ragged

_LAYOUT = Layout(
    levels=(Level(r"U\+(?P<code>[0-9A-Fa-f]{4,6})", "a U+XXXX class folder"), Level(r"[^/]+\.png", "a .png file")),
    suffixes=(".png",),
)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(head: bytes, name: str) -> tuple[int, int]:
    """``(height, width)`` from a PNG's IHDR chunk (the first 24 bytes).

    Raises:
        FormatError: not a PNG signature followed by an IHDR chunk.
    """
    if len(head) < 24 or head[:8] != _PNG_SIGNATURE or head[12:16] != b"IHDR":
        raise FormatError(f"{name} is not a PNG file (no PNG signature and IHDR header)")
    width, height = struct.unpack(">II", head[16:24])
    return height, width


@register_dataset("kuzushiji-kanji")
class KuzushijiKanji(Converter):
    """Kuzushiji-Kanji PNG class tree: one folder per codepoint."""

    defaults = Defaults(binarize="none", center="none", invert="auto", split="random")

    def scan(self) -> Catalog:
        self._files = self.open_source()  # a folder, an archive, or a folder holding kkanji.tar
        pngs = [rel for rel in self._files.files if _LAYOUT.wants(rel)]
        position = {rel: k for k, rel in enumerate(pngs)}
        matched, misfits = list_tree(self._files, _LAYOUT, files=pngs)
        for rel, reason in misfits:
            self.skips.add(reason, rel)
        kept, codes, shapes, ids = [], [], [], []
        for f in matched:
            try:
                shapes.append(png_size(self._files.head(f.path, 24), self._files.describe(f.path)))
            except FormatError as exc:
                self.skips.add("unreadable PNG header", str(exc))
                continue
            kept.append(f.path)
            codes.append(int(f.fields["code"], 16))
            ids.append(position[f.path])
        return self._catalog(kept, codes, shapes, ids)

    def _catalog(self, kept, codes, shapes, ids) -> Catalog:
        self._paths = kept
        codepoints = np.unique(np.asarray(codes, np.int64))
        labels = np.searchsorted(codepoints, np.asarray(codes, np.int64)).astype(np.int32)
        sizes = set(shapes)
        native = next(iter(sizes))[0] if len(sizes) == 1 and next(iter(sizes))[0] == next(iter(sizes))[1] else None
        self._native = native
        return Catalog(
            labels=labels,
            source_ids=np.asarray(ids, np.int64),
            classes=[ClassInfo(chr(int(cp)), int(cp)) for cp in codepoints],
            native_size=native,
            notes={"source_ids": "position of the PNG in the sorted list of PNG paths of the source"},
        )

    def load(self, rows: np.ndarray) -> np.ndarray | Ragged:
        """Grey images of catalog ``rows``: dense when every image has the native size, else Ragged."""
        images = [self._decode(self._paths[int(r)]) for r in rows]
        if self._native is not None:
            return np.stack(images) if images else np.zeros((0, self._native, self._native), np.uint8)
        return Ragged.from_list(images)

    def _decode(self, loc: str) -> np.ndarray:
        data = np.frombuffer(self._files.read(loc), np.uint8)
        img = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if len(data) else None
        if img is None:
            raise FormatError(f"{self._files.describe(loc)} cannot be decoded as a PNG image")
        if self._native is not None and img.shape != (self._native, self._native):
            raise FormatError(
                f"{self._files.describe(loc)} decodes to {img.shape[1]}x{img.shape[0]} pixels but its "
                f"header says {self._native}x{self._native}"
            )
        return img

    def source_files(self) -> list[str]:
        return sorted(self._files.file_paths(self._paths))

    def write_synthetic(self, root: Path) -> Path:
        from charbench.synth.pages import write_kanji_tree

        write_kanji_tree(Path(root) / "kkanji2", num_classes=8, per_class=16, zipf=1.0)
        return Path(root)

    def close(self) -> None:
        if getattr(self, "_files", None) is not None:
            self._files.close()
