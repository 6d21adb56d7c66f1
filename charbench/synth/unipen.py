"""Synthetic UNIPEN pen data from the seeded glyph writers: Lipi Toolkit trees (one character per file, with list
files) and UNIPEN 1.0 collections (one file per writer holding words and characters, segments by delineation)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from charbench.synth.glyphs import GlyphGenerator, assign

UNITS = 1000  # file units per glyph box
LIPI_ROOT = "$LIPI_ROOT/projects/synth/data/raw"


@dataclass(frozen=True)
class Written:
    """One sample as written: file (relative), its segment ordinal (-1: a file without segments), label, writer,
    quality, and its strokes in glyph coordinates ([0, 1], y down) for checking renders against."""

    file: str
    segment: int
    label: str
    writer: int
    quality: str
    strokes: tuple[np.ndarray, ...]


def _rows(points: np.ndarray, t0: int | None) -> list[str]:
    xy = np.round(points).astype(np.int64)
    if t0 is None:
        return [f" {x} {y}" for x, y in xy]
    return [f" {x} {y} {t0 if i == 0 else 0}" for i, (x, y) in enumerate(xy)]


def lipi_text(strokes: list[np.ndarray], writer: int) -> str:
    """One character as the Lipi Toolkit writes it: screen coordinates (y down), X Y T, a bare segment."""
    lines = [
        ".VERSION 1.0 0",
        ".HIERARCHY CHARACTER",
        ".COORD X Y T",
        ".SEGMENT CHARACTER",
        ".X_POINTS_PER_INCH 2500",
        ".Y_POINTS_PER_INCH 2500",
        ".POINTS_PER_SECOND 1200",
        "",
        f".WRITER_ID {writer}",
        ".WRITER_INFO",
        " WritingSetup:SYNTHETIC",
    ]
    for k, s in enumerate(strokes):
        lines += [".PEN_DOWN", *_rows(s * UNITS + 300, 1000 + 50 * k), ".PEN_UP"]
    return "\n".join(lines) + "\n"


def write_lipi_tree(
    root: Path,
    *,
    num_classes: int = 5,
    per_class: int = 6,
    num_writers: int = 6,
    seed: int = 0,
    test_writers: int = 2,
    lists: bool = True,
    unicode_map: dict[int, str] | None = None,
    id_width: int = 6,
    writer_dir: str = "usr{}",
) -> list[Written]:
    """A Lipi Toolkit project under ``root/data``: ``raw/usrN/<class>t<trial>.txt`` (class zero-padded to
    ``id_width``), a trainlist and a testlist (the last ``test_writers`` writers) and an optional unicode map
    (``<id> 0xXXXX ...`` per line). Returns what was written, in file order."""
    gen = GlyphGenerator(num_classes, seed)
    labels, writers = assign(num_classes, per_class, num_writers, seed)
    data = Path(root) / "data"
    trials: Counter = Counter()
    out, train, test = [], [], []
    for k, (label, writer) in enumerate(zip(labels.tolist(), writers.tolist())):
        trials[label, writer] += 1
        rel = f"raw/{writer_dir.format(writer)}/{label:0{id_width}d}t{trials[label, writer]:02d}.txt"
        strokes = gen.strokes(label, writer, k)
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).write_text(lipi_text(strokes, writer))
        (test if writer >= num_writers - test_writers else train).append(f"{LIPI_ROOT}/{rel[4:]} {label} ")
        out.append(Written(f"data/{rel}", -1, str(label), writer, "", tuple(strokes)))
    if lists:
        (data / "synth_trainlist.txt").write_text("\n".join(train) + "\n")
        (data / "synth_testlist.txt").write_text("\n".join(test) + "\n")
    if unicode_map:
        lines = ["#FONT SYNTHETIC"] + [
            f"{i} " + " ".join(f"0x{ord(c):04X}" for c in text) for i, text in sorted(unicode_map.items())
        ]
        (data / "unicodeMapfile_synth.txt").write_text("\n".join(lines) + "\n")
    return sorted(out, key=lambda w: w.file)


class _Pen:
    """Accumulates the components and segments of one UNIPEN 1.0 file (y up, as the format defines)."""

    def __init__(self, with_time: bool):
        self.blocks: list[str] = []
        self.segments: list[str] = []
        self.count = 0
        self.with_time = with_time

    def component(self, down: bool, points: np.ndarray) -> int:
        pts = np.column_stack([points[:, 0] * UNITS, (1.0 - points[:, 1]) * UNITS]) + 500
        self.blocks += [".PEN_DOWN" if down else ".PEN_UP", *_rows(pts, 0 if self.with_time else None)]
        self.count += 1
        return self.count - 1


def write_unipen_collection(
    root: Path,
    *,
    alphabet: str = "abcdefghijklmnopqrstuvwxyz",
    num_classes: int = 5,
    per_class: int = 6,
    num_writers: int = 4,
    seed: int = 0,
    bad_every: int = 0,
    include: bool = False,
) -> list[Written]:
    """One UNIPEN 1.0 file per writer (``data/w<N>.dat``), characters grouped into words of up to three.

    Each character's strokes are ``.PEN_DOWN`` blocks; hover moves between strokes are ``.PEN_UP`` blocks on
    odd characters only (so pen-down blocks are not always closed by ``.PEN_UP``). Words get a ``WORD`` segment,
    characters a ``CHARACTER`` segment by component range, every third one by point range (``3:0-5:17``). Every
    ``bad_every``-th character is marked BAD, the others OK or ``?``. With ``include`` the pen data goes to
    ``include/w<N>/pen.dat`` and the segment file ``.INCLUDE``s it. Returns the characters written.
    """
    gen = GlyphGenerator(num_classes, seed)
    labels, writers = assign(num_classes, per_class, num_writers, seed)
    out = []
    for w in range(num_writers):
        pen = _Pen(with_time=w % 2 == 1)
        mine = [(k, lab) for k, (lab, who) in enumerate(zip(labels.tolist(), writers.tolist())) if who == w]
        chars = []
        for start in range(0, len(mine), 3):
            first = pen.count
            for pos, (k, label) in enumerate(mine[start : start + 3]):
                strokes = gen.strokes(label, w, k)
                chars.append(_character(pen, strokes, pos, k, label, alphabet, bad_every, w))
            word = "".join(alphabet[lab] for _, lab in mine[start : start + 3])
            pen.segments.append(f'.SEGMENT WORD {first}-{pen.count - 1} OK "{word}"')
        rel = f"data/w{w}.dat"
        out += [Written(rel, seg, alphabet[label], w, quality, strokes) for seg, label, quality, strokes in chars]
        _write_file(Path(root), rel, w, pen, include)
    return out


def _character(
    pen: _Pen, strokes: list[np.ndarray], pos: int, k: int, label: int, alphabet: str, bad_every: int, writer: int
) -> tuple[int, int, str, tuple]:
    shifted = [s + [1.2 * pos, 0.0] for s in strokes]
    comps = []
    for i, s in enumerate(shifted):
        comps.append(pen.component(True, s))
        if k % 2 and i + 1 < len(shifted):
            pen.component(False, np.vstack([s[-1], shifted[i + 1][0]]))
    quality = "BAD" if bad_every and k % bad_every == bad_every - 1 else ("?" if k % 4 == 3 else "OK")
    if k % 3 == 0:
        where = f"{comps[0]}:0-{comps[-1]}:{len(shifted[-1]) - 1}"
    else:
        where = f"{comps[0]}-{comps[-1]}"
    label_text = alphabet[label].replace("\\", "\\\\").replace('"', '\\"')
    pen.segments.append(f'.SEGMENT CHARACTER {where} {quality} "{label_text}"')
    return len(pen.segments) - 1, label, quality, tuple(strokes)


def _write_file(root: Path, rel: str, writer: int, pen: _Pen, include: bool) -> None:
    coord = ".COORD X Y T" if pen.with_time else ".COORD X Y"
    head = [
        ".VERSION 1.0",
        ".DATA_SOURCE charbench-synth",
        f".WRITER_ID W{writer:03d}",
        coord,
        ".X_POINTS_PER_MM 40",
        ".Y_POINTS_PER_MM 40",
        ".HIERARCHY WORD CHARACTER",
        ".COMMENT synthetic handwriting:",
        "   strokes from charbench.synth.glyphs",
        ".START_SET",
    ]
    body = pen.blocks
    if include:
        inc = f"w{writer}/pen.dat"
        (root / "include" / inc).parent.mkdir(parents=True, exist_ok=True)
        (root / "include" / inc).write_text("\n".join([".COMMENT pen data", *pen.blocks]) + "\n")
        body = [f".INCLUDE {inc}"]
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    # Segments first, then pen data: the order the NICI files use; numbering does not depend on it.
    (root / rel).write_text("\n".join(head + pen.segments + body) + "\n")
