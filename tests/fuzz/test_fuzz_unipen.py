"""Fuzzing UNIPEN text: statements built from the format's own keywords, random text, and mutated real-looking files.

``parse_unipen`` either returns a self-consistent :class:`UnipenFile` (offsets, finite points, a usable y scale; every
segment it accepts can be drawn) or raises a UnipenError naming the file; the Lipi Toolkit side-file readers return
a table or None; include paths never climb out of the source; and the ``unipen`` converter, given a collection
holding one hostile file, skips or refuses it with a CharbenchError and renders everything else.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from charbench.datasets.unipen import Unipen
from charbench.errors import CharbenchError, FormatError
from charbench.io import unipen as up
from charbench.synth.unipen import write_unipen_collection

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SCAN = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAME = "data/w0.dat"

number = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["1e999", "-1e999", "1e-320", "nan", "0", "-0", "1e308", "x", "", "1,5", "0x1F"]),
)
delineation = st.one_of(
    st.from_regex(r"\d{1,3}(:\d{1,3})?(-\d{1,3}(:\d{1,3})?)?(,\d{1,3}(-\d{1,3})?)*", fullmatch=True),
    st.sampled_from(["0-99999999999999999999", "5-2", "0:9-0:1", "-1", "0:", "0-", ",", "0--1"]),
)
label = st.text(max_size=6).map(lambda t: '"' + t.replace('"', '\\"') + '"') | st.sampled_from(['"a', '"\\', '""'])
keyword = st.sampled_from(
    [
        ".PEN_DOWN",
        ".PEN_UP",
        ".SEGMENT",
        ".COORD",
        ".START_SET",
        ".INCLUDE",
        ".WRITER_ID",
        ".X_POINTS_PER_INCH",
        ".Y_POINTS_PER_INCH",
        ".X_POINTS_PER_MM",
        ".Y_POINTS_PER_MM",
        ".VERSION",
        ".HIERARCHY",
        ".pen_down",
        ".FOO_BAR",
        ".",
        ". SEGMENT",
        "\t.PEN_UP",
    ]
)
level = st.sampled_from(["CHARACTER", "CHAR", "DIGIT", "WORD", "character", "", "TEXT"])
quality = st.sampled_from(["OK", "BAD", "?", "", "ok"])
arguments = st.one_of(
    st.tuples(level, delineation, quality, label).map(" ".join),
    st.lists(number, max_size=3).map(" ".join),
    st.sampled_from(["X Y", "X Y T P", "", "include/x.dat", "../../etc/passwd", "/abs.dat", "self.dat"]),
    st.text(max_size=10),
)
pen_row = st.lists(number, min_size=0, max_size=4).map(lambda xs: " " + " ".join(xs))
statement = st.tuples(keyword, arguments, st.lists(pen_row, max_size=4)).map(
    lambda s: "\n".join([f"{s[0]} {s[1]}".rstrip(), *s[2]])
)


def check_file(doc: up.UnipenFile) -> None:
    """Everything a converter relies on after parse_unipen returned."""
    assert isinstance(doc, up.UnipenFile)
    n = len(doc.pen_down)
    assert doc.points.dtype == np.float64 and doc.points.shape == (len(doc.points), 2)
    assert np.isfinite(doc.points).all()
    assert doc.starts.dtype == np.int64 and len(doc.starts) == n + 1
    assert doc.starts[0] == 0 and doc.starts[-1] == len(doc.points) and (np.diff(doc.starts) >= 0).all()
    assert sum(doc.set_sizes) == n and all(s >= 0 for s in doc.set_sizes)
    assert np.isfinite(doc.y_scale) and doc.y_scale > 0, f"y scale {doc.y_scale}"
    for seg in doc.segments:
        problem = doc.check_segment(seg)
        if problem is not None:
            assert isinstance(problem, str) and problem
            continue
        strokes = doc.strokes(seg)
        assert strokes and all(s.ndim == 2 and s.shape[1] == 2 and len(s) for s in strokes)
    uncovered = doc.uncovered_ink()
    assert all(0 <= c < n for c in uncovered)


def parsed(text: str, include=None, names: tuple[str, ...] = (NAME,)) -> up.UnipenFile | None:
    try:
        doc = up.parse_unipen(text, NAME, include)
    except CharbenchError as exc:
        assert isinstance(exc, up.UnipenError) and exc.reason, f"{type(exc).__name__}: {exc}"
        assert any(n in str(exc) for n in names), f"message names none of {names}: {exc}"
        return None
    check_file(doc)
    return doc


@FUZZ
@given(statements=st.lists(statement, max_size=10), lead=st.sampled_from(["", "\ufeff", "\n\n", "junk\n"]))
@example(statements=[".X_POINTS_PER_INCH 1e300", ".Y_POINTS_PER_INCH 1e-300", ".PEN_DOWN\n 1 2"], lead="")
@example(statements=[".X_POINTS_PER_INCH 1e999", ".Y_POINTS_PER_INCH 1", ".PEN_DOWN\n 1 2"], lead="")
@example(statements=[".PEN_DOWN\n 1 2", '.SEGMENT CHAR 0-99999999999999999999 OK "a"'], lead="")
@example(statements=[".PEN_DOWN\n 1 2\n 3 4", '.SEGMENT CHAR 0:1-0:0 OK "a"'], lead="")
@example(statements=[".PEN_DOWN\n 1 2", ".START_SET", ".START_SET", '.SEGMENT CHAR 0 OK "a"'], lead="")
def test_statements(statements, lead):
    parsed(lead + "\n".join(statements) + "\n")


@FUZZ
@given(text=st.text(max_size=300))
def test_random_text(text):
    parsed(text)


@FUZZ
@given(data=st.binary(max_size=200))
def test_sniffing_random_bytes(data):
    assert isinstance(up.looks_like_unipen(data), bool)
    parsed(data.decode("utf-8", errors="replace"))


@pytest.fixture(scope="module")
def collection(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fuzz-unipen") / "raw"
    write_unipen_collection(root, num_classes=3, per_class=2, num_writers=1)
    return root


def mutate(text: str, ops: list[tuple[int, int, int]]) -> str:
    """Apply (kind, position, value) edits to text: truncate, replace a char, insert, delete a range, copy a line."""
    chars = list(text)
    alphabet = ' \n.-:,"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_\\'
    for kind, pos, value in ops:
        at = pos % (len(chars) + 1)
        if kind == 0:
            del chars[at:]
        elif kind == 1 and chars:
            chars[at % len(chars)] = alphabet[value % len(alphabet)]
        elif kind == 2:
            chars[at:at] = alphabet[value % len(alphabet)] * (value % 5 + 1)
        elif kind == 3:
            del chars[at : at + value % 40 + 1]
        elif kind == 4:
            lines = "".join(chars).split("\n")
            lines.insert(at % (len(lines) + 1), lines[value % len(lines)])
            chars = list("\n".join(lines))
    return "".join(chars)


edits = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 2**16), st.integers(0, 2**16)), min_size=1, max_size=5)


@FUZZ
@given(ops=edits)
def test_mutated_collection_file(collection, ops):
    parsed(mutate((collection / NAME).read_text(), ops))


@FUZZ
@given(
    main=st.lists(statement, max_size=4).map("\n".join),
    included=st.lists(statement, max_size=4).map("\n".join),
    target=st.sampled_from(["inc.dat", "self", "missing", ""]),
)
@example(main=".INCLUDE self", included="", target="self")  # includes itself: depth limit, not a RecursionError
def test_includes(main, included, target):
    def include(name: str, wanted: str):
        if wanted == "self":
            return name, main
        if wanted == target:
            return f"include/{wanted}", included
        return None

    parsed(f"{main}\n.INCLUDE {target}\n", include, names=(NAME, f"include/{target}", "include/self"))


@FUZZ
@given(text=st.one_of(delineation, st.text(max_size=20)))
def test_delineation(text):
    try:
        ranges = up.parse_delineation(text)
    except FormatError as exc:
        assert repr(text) in str(exc)
        return
    assert ranges and all(isinstance(c, int) and c >= 0 for (a, b) in ranges for c in (a[0], b[0]))


side_line = st.one_of(
    st.tuples(st.text(max_size=8), st.sampled_from(["/", "\\", ""]), st.text(max_size=8), st.text(max_size=4)).map(
        lambda t: f"{t[0]}{t[1]}{t[2]} {t[3]}"
    ),
    st.tuples(
        st.from_regex(r"[0-9\u0660-\u0669\u00b2]{1,3}", fullmatch=True),
        st.lists(
            st.one_of(st.from_regex(r"(0x|U\+)[0-9A-Fa-f]{2,6}", fullmatch=True), st.text(max_size=3)), max_size=3
        ),
    ).map(lambda t: " ".join([t[0], *t[1]])),
    st.sampled_from(["#", "EOF", "", "1 0xFFFFFF", "1 U+110000", "\u00b2 a", "7 U+0037"]),
)


@FUZZ
@given(lines=st.lists(side_line, max_size=6))
@example(lines=["1 0xFFFFFF"])  # a code past U+10FFFF
@example(lines=["\u00b2 a"])  # str.isdigit() is True for '²', int() refuses it
def test_side_files(lines):
    text = "\n".join(lines)
    lists, maps, codes = up.read_list_file(text), up.read_map_file(text), up.read_unicode_map(text)
    assert lists is None or all(isinstance(k, str) and isinstance(v, str) for k, v in lists.items())
    assert maps is None or all(isinstance(lab, str) and isinstance(g, str) for lab, g in maps)
    assert codes is None or all(isinstance(k, int) and isinstance(v, str) for k, v in codes.items())


path_part = st.sampled_from(["..", ".", "", "usr3", "usr_12", "include", "a", "000007t02.txt", "\\", "C:"])


@FUZZ
@given(including=st.lists(path_part, max_size=5).map("/".join), target=st.lists(path_part, max_size=5).map("/".join))
@example(including="a/b.dat", target="../../../etc/passwd")
@example(including="usr3/x.dat", target="\\..\\..\\secret")
@example(including="/a.dat", target="b.dat")  # an absolute name: dirname("/") == "/" looped forever
def test_include_candidates_stay_inside_the_source(including, target):
    for candidate in up.include_candidates(including, target):
        parts = candidate.split("/")
        assert ".." not in parts and not candidate.startswith("/"), candidate
    name = up.lipi_name(including)
    assert name is None or all(isinstance(v, int) for v in name)


# --- the converter on a collection holding one hostile file -----------------------------------------------------------


@SCAN
@given(
    text=st.one_of(edits.map(lambda ops: ops), st.lists(statement, min_size=1, max_size=8)),
    rel=st.sampled_from(["data/w9.dat", "data/usr2/000001t01.txt", "data/include/pen.dat", "w0.unp"]),
    strict=st.booleans(),
)
@example(
    text=[".X_POINTS_PER_INCH 1e999", ".Y_POINTS_PER_INCH 1", ".PEN_DOWN\n 1 2\n 3 4", '.SEGMENT CHAR 0 OK "a"'],
    rel="data/w9.dat",
    strict=False,
)
def test_converter_with_a_hostile_file(collection, tmp_path_factory, text, rel, strict):
    work = tmp_path_factory.getbasetemp() / "fuzz-unipen-work"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(collection, work)
    hostile = mutate((collection / NAME).read_text(), text) if text and isinstance(text[0], tuple) else "\n".join(text)
    (work / rel).parent.mkdir(parents=True, exist_ok=True)
    (work / rel).write_text(hostile + "\n", encoding="utf-8", errors="surrogatepass")
    converter = Unipen(work, strict=strict)
    try:
        catalog = converter.scan()
        converter.set_output_size(28)
        images = converter.load(np.arange(len(catalog)))
        assert images.dtype == np.uint8 and images.shape == (len(catalog), 28, 28)
    except CharbenchError as exc:
        assert str(exc).strip()
    finally:
        converter.close()
