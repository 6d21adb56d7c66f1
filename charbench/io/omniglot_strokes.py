"""Omniglot stroke files (``strokes_background/<Alphabet>/characterNN/NNNN_DD.txt``): parse, pack, write.

The format, as checked on the published ``strokes_background_small1.zip`` (2,720 files)::

    START
    18.954528,-43.534334,0        <- x, y, t: one pen sample per line; t in milliseconds
    19.739983,-41.963425,56
    ...
    BREAK                         <- pen up: ends the current stroke (the last stroke ends with one too)
    ...

``x`` is the image column and ``-y`` the image row of the matching 105x105 PNG (y is stored pointing up): on that
zip the strokes' bounding box centre lies within 0.1 px of the PNG ink's, on average. :func:`parse_strokes` returns
points in the image frame, y down, which is what :func:`charbench.kernels.rasterize_strokes` takes. The time column
must be present but is not otherwise read (nothing in charbench uses pen timing).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

import numpy as np

from charbench.errors import FormatError


@dataclass(frozen=True)
class Drawing:
    """One character drawing: stroke ``k`` is ``points[stroke_offsets[k]:stroke_offsets[k + 1]]``."""

    points: np.ndarray  # float32 [P, 2], (x, y) in the image frame, y down
    stroke_offsets: np.ndarray  # int64 [K + 1]

    @property
    def num_strokes(self) -> int:
        return len(self.stroke_offsets) - 1


def parse_strokes(data: bytes | str, name: str = "<strokes>") -> Drawing:
    """Parse one stroke file.

    ``START`` lines are markers only; blank lines are ignored; empty strokes (two ``BREAK`` in a row) are dropped;
    points after the last ``BREAK`` form a final stroke.

    Args:
        data: The file's bytes or text.
        name: The file's path, for error messages.

    Raises:
        FormatError: Not text, a line that is neither a marker nor ``x,y,t`` with finite numbers, or no points at all.
    """
    text = _decode(data, name)
    # Split on the markers first, so that Python works per stroke and numpy converts all numbers at once.
    chunks = [c.split() for c in text.replace("START", " ").split("BREAK")]
    sizes = np.array([len(c) for c in chunks if c], dtype=np.int64)
    if not len(sizes):
        raise FormatError(f"{name}: no pen samples (expected 'START', 'x,y,t' lines and 'BREAK')")
    rows = list(chain.from_iterable(chunks))
    table = _numbers(rows, text, name)
    offsets = np.concatenate([np.zeros(1, np.int64), np.cumsum(sizes)])
    return Drawing(table.astype(np.float32), offsets)


def _decode(data: bytes | str, name: str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise FormatError(f"{name}: not a text stroke file (non-ASCII bytes)") from None


def _numbers(rows: list[str], text: str, name: str) -> np.ndarray:
    """(x, -y) of every row as float64 [P, 2]; the time column is checked for presence only (nothing uses it)."""
    fields = ",".join(rows).split(",")
    if len(fields) == 3 * len(rows):
        try:
            table = np.column_stack([np.array(fields[0::3], np.float64), -np.array(fields[1::3], np.float64)])
        except ValueError:
            table = None
        if table is not None and (np.abs(table) <= np.finfo(np.float32).max).all():  # finite, also as float32
            return table
    for no, line in enumerate(text.splitlines(), 1):  # slow path, only to name the bad line
        s = line.strip()
        if s in ("", "START", "BREAK"):
            continue
        parts = s.split(",")
        try:
            ok = len(parts) == 3 and all(abs(float(p)) <= np.finfo(np.float32).max for p in parts[:2])
        except ValueError:
            ok = False
        if not ok:
            raise FormatError(
                f"{name}, line {no}: expected 'x,y,t' (x and y finite numbers) or START/BREAK, got {s[:60]!r}"
            )
    raise FormatError(f"{name}: pen samples must be one 'x,y,t' per line, without spaces")


def pack(drawings: list[Drawing]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concatenate drawings into the ``(points, stroke_offsets, sample_offsets)`` triple of ``rasterize_strokes``."""
    if not drawings:
        return np.zeros((0, 2), np.float32), np.zeros(1, np.int64), np.zeros(1, np.int64)
    points = np.concatenate([d.points for d in drawings]).astype(np.float32, copy=False)
    point_base = np.cumsum([0] + [len(d.points) for d in drawings[:-1]])
    strokes = [d.stroke_offsets[1:] + base for d, base in zip(drawings, point_base)]
    stroke_offsets = np.concatenate([np.zeros(1, np.int64), *strokes]).astype(np.int64)
    sample_offsets = np.cumsum([0] + [d.num_strokes for d in drawings]).astype(np.int64)
    return points, stroke_offsets, sample_offsets


def take(
    points: np.ndarray, stroke_offsets: np.ndarray, sample_offsets: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The packed triple of samples ``rows`` (in that order, repeats allowed) of a packed triple."""
    sel_points, sel_strokes, sel_samples = [np.zeros((0, 2), np.float32)], [0], [0]
    for r in np.asarray(rows, dtype=np.int64).tolist():
        s0, s1 = sample_offsets[r], sample_offsets[r + 1]
        p0 = stroke_offsets[s0]
        sel_points.append(points[p0 : stroke_offsets[s1]])
        sel_strokes.extend((stroke_offsets[s0 + 1 : s1 + 1] - p0 + sel_strokes[-1]).tolist())
        sel_samples.append(sel_samples[-1] + int(s1 - s0))
    return np.concatenate(sel_points), np.array(sel_strokes, np.int64), np.array(sel_samples, np.int64)


def format_strokes(strokes: list[np.ndarray], *, step_ms: float = 16.0) -> str:
    """The file text of a drawing given as strokes of (x, y) image-frame points, y down (inverse of parse).

    Args:
        strokes: One ``[k, 2]`` array per stroke.
        step_ms: Time between consecutive samples written in the ``t`` column.
    """
    lines = ["START"]
    t = 0.0
    for stroke in strokes:
        for x, y in np.asarray(stroke, dtype=np.float64):
            lines.append(f"{x:.6f},{-y:.6f},{t:.0f}")
            t += step_ms
        lines.append("BREAK")
    return "\n".join(lines) + "\n"
