"""UNIPEN online handwriting text files: pen components, ``.SEGMENT`` labels, and the Lipi Toolkit's side files.

UNIPEN 1.0 (Guyon et al., ICPR 1994) is a keyword format: a line starting with ``.KEYWORD`` opens a statement and
the lines after it, up to the next keyword, are its continuation. Pen data comes in ``.PEN_DOWN`` and ``.PEN_UP``
blocks of ``X Y [T ...]`` rows (columns named by ``.COORD``). Both kinds of block are *components*, numbered from 0
in file order (an ``.INCLUDE`` is read in place) and again from 0 after each ``.START_SET``; a ``.SEGMENT level
delineation quality "label"`` names components by range: ``0-3`` (components 0 to 3), ``5,7`` or ``0:0-1:1``
(component 0 point 0 to component 1 point 1, inclusive). Only pen-down points are ink. A ``.PEN_DOWN`` need not
be closed by ``.PEN_UP``: the next keyword ends it. UNIPEN's y axis points up.

The Lipi Toolkit (HP Labs India) ships one character per file, ``usrN/NNNNNNtSS.txt``, with a bare
``.SEGMENT CHARACTER`` and the label in the file name or in list files (``path label``) beside the data.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from charbench.errors import FormatError

# Hierarchy levels that hold one character each; ``--label character`` selects all of them.
CHARACTER_LEVELS = frozenset({"CHARACTER", "CHAR", "DIGIT", "UPPER", "LOWER", "LETTER", "SYMBOL", "PUNCTUATION"})
MAX_INCLUDE_DEPTH = 8

_KEYWORD = re.compile(rb"^\s*\.[A-Z_]+")
_KEYWORD_LINE = re.compile(r"^\s*\.[A-Za-z_]")
_DELINEATION = re.compile(r"^\d+(?::\d+)?(?:-\d+(?::\d+)?)?(?:,\d+(?::\d+)?(?:-\d+(?::\d+)?)?)*$")
_LIPI_NAME = re.compile(r"^(\d+)t(\d+)\.[A-Za-z0-9]+$")
_WRITER_DIR = re.compile(r"^usr_?(\d+)$", re.IGNORECASE)
_CODE = re.compile(r"^(?:0x|U\+)([0-9A-Fa-f]{2,6})$")


class UnipenError(FormatError):
    """A UNIPEN file that cannot be used as a whole; ``reason`` is the summary bucket it is counted under."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{detail} ({reason})")
        self.reason = reason


UNTERMINATED = "UNIPEN files with an unterminated or malformed block"
OUTSIDE = "UNIPEN files with a point block outside any segment"
NO_INCLUDE = "UNIPEN files whose .INCLUDE cannot be found"


Point = tuple[int, int | None]  # (component, point within it; None = first / last point)


@dataclass(frozen=True)
class Segment:
    """One ``.SEGMENT`` statement; ``ranges`` None means the whole file (the Lipi Toolkit's bare segment)."""

    index: int  # ordinal among the file's .SEGMENT statements: part of the stable source id
    level: str  # upper case
    ranges: tuple[tuple[Point, Point], ...] | None
    quality: str  # OK, BAD, ? (upper case; "" when absent)
    label: str | None
    first_component: int  # global index of component 0 of the segment's .START_SET


@dataclass
class UnipenFile:
    """Pen components of one file (included files read in place) and its segments."""

    name: str
    points: np.ndarray  # float64 [P, 2] raw (x, y), UNIPEN orientation (y up)
    starts: np.ndarray  # int64 [C + 1]: component c is points[starts[c]:starts[c+1]]
    pen_down: np.ndarray  # bool [C]
    segments: list[Segment]
    writer: str | None = None
    y_scale: float = 1.0  # X_POINTS_PER_INCH / Y_POINTS_PER_INCH: makes a y unit as long as an x unit
    set_sizes: list[int] = field(default_factory=list)  # components per .START_SET, in order

    def strokes(self, segment: Segment) -> list[np.ndarray]:
        """The pen-down strokes a segment covers, as float64 (x, y) arrays in file units, y up."""
        if segment.ranges is None:
            return [self._component(c) for c in np.flatnonzero(self.pen_down) if self._count(c)]
        out = []
        for (c0, p0), (c1, p1) in segment.ranges:
            for c in range(segment.first_component + c0, segment.first_component + c1 + 1):
                if not self.pen_down[c]:
                    continue
                lo = (p0 or 0) if c == segment.first_component + c0 else 0
                hi = (p1 + 1 if p1 is not None else None) if c == segment.first_component + c1 else None
                pts = self._component(c)[lo:hi]
                if len(pts):
                    out.append(pts)
        return out

    def _component(self, c: int) -> np.ndarray:
        return self.points[self.starts[c] : self.starts[c + 1]]

    def _count(self, c: int) -> int:
        return int(self.starts[c + 1] - self.starts[c])

    def check_segment(self, segment: Segment) -> str | None:
        """Why a segment cannot be drawn (components missing, no ink), or None."""
        if segment.ranges is not None:
            set_end = self._set_end(segment.first_component)
            for (c0, p0), (c1, p1) in segment.ranges:
                first, last = segment.first_component + c0, segment.first_component + c1
                if c1 < c0 or last >= set_end:
                    return "segments naming components that are not in the file"
                if (p0 is not None and p0 >= self._count(first)) or (p1 is not None and p1 >= self._count(last)):
                    return "segments naming points that are not in the file"
        if not any(len(s) for s in self.strokes(segment)):
            return "segments without pen-down points"
        return None

    def _set_end(self, first: int) -> int:
        start = 0
        for size in self.set_sizes:
            if start == first:
                return start + size
            start += size
        return len(self.pen_down)

    def uncovered_ink(self) -> list[int]:
        """Pen-down components with points that no delineated segment names (empty when none is delineated)."""
        delineated = [s for s in self.segments if s.ranges is not None]
        if not delineated or any(s.ranges is None for s in self.segments):
            return []
        covered = np.zeros(len(self.pen_down), bool)
        for s in delineated:
            for (c0, _), (c1, _) in s.ranges:
                covered[s.first_component + c0 : s.first_component + c1 + 1] = True
        ink = self.pen_down & (np.diff(self.starts) > 0)
        return np.flatnonzero(ink & ~covered).tolist()


def looks_like_unipen(head: bytes) -> bool:
    """True when a file's first non-blank line is a UNIPEN ``.KEYWORD`` statement."""
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    return bool(_KEYWORD.match(text)) and text.startswith(b".")


def parse_delineation(text: str) -> tuple[tuple[Point, Point], ...]:
    """``"0-3"``, ``"5,7"`` or ``"0:0-1:1"`` -> ((first component, point), (last component, point)) ranges.

    Raises:
        FormatError: text that is not a delineation.
    """
    if not _DELINEATION.match(text):
        raise FormatError(f"not a UNIPEN delineation: {text!r}")
    ranges = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        ranges.append((_point(lo), _point(hi or lo)))
    return tuple(ranges)


def _point(text: str) -> Point:
    comp, _, pt = text.partition(":")
    return int(comp), int(pt) if pt else None


class _Parser:
    """Single pass over the statements of a file and, in place, of the files it includes."""

    def __init__(self, name: str, include: Callable[[str, str], tuple[str, str] | None]):
        self.name, self.include = name, include
        self.blocks: list[np.ndarray] = []
        self.down: list[bool] = []
        self.segments: list[Segment] = []
        self.columns = 2
        self.ppi = {"X": None, "Y": None}
        self.writer: str | None = None
        self.set_starts = [0]

    def run(self, text: str, name: str, depth: int = 0) -> None:
        lines = text.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            j = i + 1
            while j < len(lines) and not _KEYWORD_LINE.match(lines[j]):
                j += 1
            if _KEYWORD_LINE.match(line):
                self._statement(line.strip(), lines[i + 1 : j], name, depth, at_end=j == len(lines))
            elif line.strip():
                raise UnipenError(OUTSIDE, f"{name}: data before the first keyword: {line.strip()[:40]!r}")
            i = j

    def _statement(self, line: str, body: list[str], name: str, depth: int, at_end: bool) -> None:
        keyword, _, args = line.partition(" ")
        keyword = keyword.split("\t")[0].upper()
        if keyword in (".PEN_DOWN", ".PEN_UP"):
            self._block(keyword == ".PEN_DOWN", body, name, at_end)
        elif keyword == ".SEGMENT":
            self._segment(" ".join([args, *body]).strip(), name)
        elif keyword == ".COORD":
            self.columns = max(2, len(args.split()))
        elif keyword in (".X_POINTS_PER_INCH", ".Y_POINTS_PER_INCH", ".X_POINTS_PER_MM", ".Y_POINTS_PER_MM"):
            self._resolution(keyword, args)
        elif keyword == ".WRITER_ID" and args.strip():
            self.writer = args.strip()
        elif keyword == ".START_SET" and self.set_starts[-1] != len(self.down):
            self.set_starts.append(len(self.down))
        elif keyword == ".INCLUDE":
            self._include(args.strip(), name, depth)

    def _block(self, down: bool, body: list[str], name: str, at_end: bool) -> None:
        rows = [r for r in body if r.strip()]
        if not rows:
            if at_end and down:
                raise UnipenError(UNTERMINATED, f"{name}: .PEN_DOWN at the end of the file holds no points")
            self.blocks.append(np.zeros((0, 2)))
            self.down.append(down)
            return
        try:
            values = np.array(" ".join(rows).split(), dtype=np.float64)
        except ValueError:
            raise UnipenError(UNTERMINATED, f"{name}: a pen block holds a non-numeric row") from None
        cols = self.columns
        if len(values) % cols:
            counts = {len(r.split()) for r in rows}
            if len(counts) != 1 or min(counts) < 2:
                raise UnipenError(UNTERMINATED, f"{name}: pen rows of {sorted(counts)} values, .COORD has {cols}")
            cols = counts.pop()
        pts = values.reshape(-1, cols)[:, :2]
        if not np.isfinite(pts).all():
            raise UnipenError(UNTERMINATED, f"{name}: a pen block holds a non-finite coordinate")
        self.blocks.append(pts)
        self.down.append(down)

    def _segment(self, args: str, name: str) -> None:
        head, quote, rest = args.partition('"')
        label = None
        if quote:
            label = _unquote(rest, name)
        tokens = head.split()
        if not tokens:
            return
        ranges = None
        quality = ""
        for tok in tokens[1:]:
            if _DELINEATION.match(tok):
                ranges = parse_delineation(tok)
            else:
                quality = tok.upper()
        set_start = self.set_starts[-1]
        self.segments.append(Segment(len(self.segments), tokens[0].upper(), ranges, quality, label, set_start))

    def _resolution(self, keyword: str, args: str) -> None:
        try:
            value = float(args.split()[0])
        except (ValueError, IndexError):
            return
        if 0 < value < 1e9:  # a resolution: finite and positive, or ignored
            self.ppi[keyword[1]] = value

    def _include(self, target: str, name: str, depth: int) -> None:
        if depth >= MAX_INCLUDE_DEPTH:
            raise UnipenError(NO_INCLUDE, f"{name}: .INCLUDE nested deeper than {MAX_INCLUDE_DEPTH} ({target})")
        found = self.include(name, target) if target else None
        if found is None:
            raise UnipenError(NO_INCLUDE, f"{name}: .INCLUDE {target!r} not found beside it or in an include/ folder")
        self.run(found[1], found[0], depth + 1)

    def result(self) -> UnipenFile:
        sizes = [len(b) for b in self.blocks]
        starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        points = np.concatenate(self.blocks) if self.blocks else np.zeros((0, 2))
        bounds = self.set_starts + [len(self.down)]
        set_sizes = np.diff(bounds).tolist()
        scale = self.ppi["X"] / self.ppi["Y"] if self.ppi["X"] and self.ppi["Y"] else 1.0
        return UnipenFile(
            self.name, points, starts, np.array(self.down, bool), self.segments, self.writer, scale, set_sizes
        )


def _unquote(rest: str, name: str) -> str:
    out, i = [], 0
    escapes = {"n": "\n", "t": "\t"}
    while i < len(rest):
        ch = rest[i]
        if ch == "\\" and i + 1 < len(rest):
            out.append(escapes.get(rest[i + 1], rest[i + 1]))
            i += 2
            continue
        if ch == '"':
            return "".join(out)
        out.append(ch)
        i += 1
    raise UnipenError(UNTERMINATED, f"{name}: .SEGMENT label {rest[:20]!r}... has no closing quote")


def parse_unipen(
    text: str, name: str, include: Callable[[str, str], tuple[str, str] | None] | None = None
) -> UnipenFile:
    """Parse one UNIPEN file.

    Args:
        text: The file's content.
        name: Its path (for messages and for resolving ``.INCLUDE``).
        include: ``include(including_name, target) -> (name, text)`` of an included file, or None when absent.

    Raises:
        UnipenError: a malformed or unterminated block, data outside any statement, or a missing include.
    """
    parser = _Parser(name, include or (lambda _n, _t: None))
    parser.run(text, name)
    return parser.result()


def include_candidates(including: str, target: str) -> list[str]:
    """Where ``.INCLUDE target`` of file ``including`` may live: beside it, in any folder above it, and in an
    ``include/`` folder at any of those levels (the UNIPEN CD keeps pen data under ``include/``)."""
    target = target.replace("\\", "/").lstrip("/")
    folder = posixpath.dirname(including.replace("\\", "/").lstrip("/"))  # relative: dirname('/') is '/'
    out = []
    while True:
        for base in (folder, posixpath.join(folder, "include") if folder else "include"):
            path = posixpath.normpath(posixpath.join(base, target))
            if not path.startswith("../") and path != ".." and path not in out:
                out.append(path)
        if not folder:
            return out
        folder = posixpath.dirname(folder)


def lipi_name(rel: str) -> tuple[int, int, int] | None:
    """``usr3/000007t02.txt`` -> (class 7, sample 2, writer 3); writer -1 without a ``usr`` folder; None when the
    name does not follow the Lipi Toolkit's ``<class>t<sample>`` pattern."""
    parts = rel.split("/")
    m = _LIPI_NAME.match(parts[-1])
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), writer_from_dir(parts[:-1])


def writer_from_dir(folders: list[str]) -> int:
    """Writer number of the nearest ``usrN`` / ``usr_N`` folder, or -1."""
    for part in reversed(folders):
        m = _WRITER_DIR.match(part)
        if m:
            return int(m.group(1))
    return -1


def read_list_file(text: str) -> dict[str, str] | None:
    """A Lipi Toolkit list file (``<path> <label>`` per line) as {last two path parts: label}, or None when the
    text is not one."""
    out = {}
    for line in text.splitlines():
        tokens = line.split()
        if not tokens or line.lstrip().startswith("#"):
            continue
        if len(tokens) < 2 or "/" not in tokens[0].replace("\\", "/"):
            return None
        out[tail(tokens[0])] = tokens[-1]
    return out or None


def read_map_file(text: str) -> list[tuple[str, str]] | None:
    """A Lipi Toolkit map file (``<label> <glob>`` per line, globs like ``usr[0-5]/000000t*.txt``) as
    [(label, glob on the last two path parts)], or None when the text is not one."""
    out = []
    for line in text.splitlines():
        tokens = line.split()
        if not tokens or line.lstrip().startswith("#"):
            continue
        if len(tokens) != 2 or "/" not in tokens[1].replace("\\", "/"):
            return None
        out.append((tokens[0], tail(tokens[1])))
    return out or None


def read_unicode_map(text: str) -> dict[int, str] | None:
    """A class-id -> text table (``<id> <chars or 0xXXXX / U+XXXX codes>`` per line, ``#`` lines ignored), as the
    Lipi Toolkit's ``English Numerals.txt`` or a script's unicode map file; None when the text is not one."""
    out = {}
    for line in text.splitlines():
        tokens = line.split()
        if not tokens or tokens[0].startswith("#") or tokens == ["EOF"]:
            continue
        if (
            len(tokens) < 2
            or not (tokens[0].isascii() and tokens[0].isdigit())
            or any("/" in t or t.endswith(".txt") for t in tokens[1:])
        ):
            return None
        codes = [m if (m := _CODE.match(t)) and int(m.group(1), 16) <= 0x10FFFF else None for t in tokens[1:]]
        out[int(tokens[0])] = "".join(chr(int(m.group(1), 16)) for m in codes) if all(codes) else tokens[1]
    return out or None


def tail(path: str, parts: int = 2) -> str:
    """The last ``parts`` components of a path written with / or \\ (how list files and data files are matched)."""
    return "/".join(path.replace("\\", "/").split("/")[-parts:])
