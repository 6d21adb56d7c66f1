"""Fuzzing Omniglot inputs: stroke files, tree names and hostile files dropped into a real-looking tree or zip.

``parse_strokes`` gets random bytes, random text made of the format's own tokens and mutations of valid files; the
converter's scan gets a synthetic tree (folder or zip) plus one extra file whose name and content are hostile. Each
call either returns well-formed output (finite float32 points, consistent offsets; a catalogue that ``load`` can
read) or raises a CharbenchError with a message; it never raises anything else.
"""

from __future__ import annotations

import io
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from charbench.datasets.base import Decoded
from charbench.datasets.omniglot import Omniglot, layout, source_id
from charbench.errors import CharbenchError, FormatError
from charbench.io.omniglot_strokes import Drawing, format_strokes, parse_strokes
from charbench.synth.omniglot import png_bytes, write_omniglot
from tests.fuzzing import mutate, outcome

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SCAN = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STROKES = format_strokes([np.array([[10.5, 20.25], [11.0, 21.0], [12.0, 19.5]]), np.array([[3.0, 4.0]])])


def check_drawing(drawing: Drawing) -> None:
    assert isinstance(drawing, Drawing)
    points, offsets = drawing.points, drawing.stroke_offsets
    assert points.dtype == np.float32 and points.ndim == 2 and points.shape[1] == 2
    assert np.isfinite(points).all(), "parse_strokes returned non-finite points"
    assert offsets.dtype == np.int64 and offsets[0] == 0 and offsets[-1] == len(points)
    assert (np.diff(offsets) > 0).all() and drawing.num_strokes >= 1


def parsed(data: bytes | str, name: str = "strokes_background/A/character01/0001_01.txt") -> Drawing | None:
    drawing = outcome(lambda n: parse_strokes(data, n), name)
    if drawing is not None:
        check_drawing(drawing)
    return drawing


@FUZZ
@given(data=st.binary(max_size=400))
@example(data=b"")
@example(data=b"START\nBREAK\n")
@example(data="START\n1,2,3\nBREAK\n".encode("utf-16"))
def test_strokes_random_bytes(data):
    parsed(data)


number = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(["", "-", ".", "1e", "1e400", "3.5e38", "-3.5e38", "1e-400", "nan", "inf", "0x10", "1_0", " 1"]),
)
line = st.one_of(
    st.sampled_from(["START", "BREAK", "", " ", "START BREAK", "BREAKSTART", "\t"]),
    st.lists(number, min_size=1, max_size=4).map(",".join),
    st.text(max_size=12),
)


@FUZZ
@given(lines=st.lists(line, max_size=12), newline=st.sampled_from(["\n", "\r\n", "\r"]))
@example(lines=["START", "3.5e38,1,0", "BREAK"], newline="\n")  # finite as float64, inf as float32
@example(lines=["START", "1,2", "BREAK"], newline="\n")
def test_strokes_random_text(lines, newline):
    drawing = parsed(newline.join(lines))
    if drawing is not None:
        assert drawing.num_strokes >= 1




edits = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 2**16), st.integers(0, 2**16)), min_size=1, max_size=4)


@FUZZ
@given(ops=edits)
def test_strokes_mutated(ops):
    parsed(mutate(STROKES.encode(), ops))


# --- names: the layout's fields must always make a valid source id ---------------------------------------------------

top = st.sampled_from(["images_background", "images_evaluation_small2", "strokes_background", "images_background_x"])
character = st.one_of(st.just("character01"), st.from_regex(r"character[0-9\u0660-\u0669]{1,4}", fullmatch=True))
file_name = st.one_of(
    st.from_regex(r"[0-9\u0660-\u0669\uff10-\uff19]{3,5}_[0-9\u0966-\u096f]{1,3}\.(png|PNG|Png|txt)", fullmatch=True),
    st.text(max_size=20),
)


@FUZZ
@given(parts=st.tuples(st.text(max_size=8), top, st.text(min_size=1, max_size=8), character, file_name))
@example(parts=("", "images_background", "Latin", "character01", "0001_01.png"))
@example(parts=("", "images_background", "Latin", "character01", "\u0661\u0662\u0663\u0664_\u0966\u0967.png"))
def test_layout_fields_make_source_ids(parts):
    for modality in ("images", "strokes"):
        found = layout(modality).match(list(parts))
        if isinstance(found, str):
            assert found.strip()
            continue
        sid = source_id(found)
        assert isinstance(sid, int) and sid >= 0
        assert found["top"].startswith(modality)


# --- the converter's scan over a tree holding one hostile file --------------------------------------------------------


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` pixels over one tiny IDAT chunk."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


GOOD_PNG = png_bytes(np.full((105, 105), 255, np.uint8))
content = st.one_of(
    st.binary(max_size=200),
    edits.map(lambda ops: mutate(GOOD_PNG, ops)),
    edits.map(lambda ops: mutate(STROKES.encode(), ops)),
    st.tuples(st.integers(1, 2**31 - 1), st.integers(1, 2**31 - 1)).map(lambda wh: png_claiming(*wh)),
)
name_part = st.one_of(st.sampled_from(["Bg_Script_01", "character01", "images_background", "x"]), st.text(max_size=10))
leaf = st.one_of(st.sampled_from(["0001_03.png", "0001_03.txt", "0999_01.png", "0001_01.png"]), file_name)


@pytest.fixture(scope="module")
def trees(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("fuzz-omniglot")
    return {
        "tree": write_omniglot(base / "tree", num_alphabets=1, characters=1, drawers=2),
        "zip": write_omniglot(base / "zip", num_alphabets=1, characters=1, drawers=2, zipped=True),
    }


def place(source: Path, work: Path, zipped: bool, modality: str, rel: list[str], data: bytes) -> Path | None:
    """A copy of ``source`` with ``data`` added at ``<modality>_background/<rel>``; None when the name cannot exist."""
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(source, work)
    if zipped:
        with zipfile.ZipFile(work / f"{modality}_background.zip", "a") as zf:
            zf.writestr(zipfile.ZipInfo("/".join([f"{modality}_background", *rel])), data)
        return work
    if any(p in ("", ".", "..") or "/" in p or "\x00" in p or len(p.encode()) > 200 for p in rel):
        return None
    target = work.joinpath(f"{modality}_background", *rel)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir():
            return None
        target.write_bytes(data)
    except (OSError, UnicodeEncodeError):  # a name this file system refuses: nothing to test
        return None
    return work


def scan_and_load(source: Path, modality: str, strict: bool) -> None:
    def run() -> None:
        converter = Omniglot(source, strict=strict, modality=modality)
        try:
            catalog = converter.scan()
            assert len(catalog) == len(catalog.source_ids) == len(set(catalog.source_ids.tolist()))
            converter.set_output_size(28)
            images = converter.load(np.arange(len(catalog)))
            if isinstance(images, Decoded):  # undecodable PNGs are left out, each with its reason
                assert len(images.images) + len(images.failed) == len(catalog)
                assert all(reason and name for reason, name in images.failed.values())
            else:
                assert len(images) == len(catalog)
        finally:
            converter.close()

    try:
        run()
    except CharbenchError as exc:
        assert str(exc).strip()


@SCAN
@given(
    zipped=st.booleans(),
    modality=st.sampled_from(["images", "strokes"]),
    rel=st.one_of(
        st.tuples(name_part, name_part, leaf).map(list),
        st.lists(name_part, min_size=1, max_size=4).map(lambda p: [*p, "0001_05.png"]),
    ),
    data=content,
    strict=st.booleans(),
)
@example(
    zipped=False,
    modality="images",
    rel=["Bg_Script_01", "character01", "0001_03.png"],
    data=png_claiming(30_000, 30_000),
    strict=False,
)
@example(
    zipped=True,
    modality="images",
    rel=["Bg_Script_01", "character01", "0001_03.png"],
    data=png_claiming(2**31 - 1, 2**31 - 1),
    strict=False,
)
def test_scan_tree_with_a_hostile_file(trees, tmp_path_factory, zipped, modality, rel, data, strict):
    work = tmp_path_factory.getbasetemp() / "fuzz-omniglot-work"
    source = place(trees["zip" if zipped else "tree"], work, zipped, modality, rel, data)
    if source is not None:
        scan_and_load(source, modality, strict)


def test_strokes_parse_names_the_file_and_line():
    with pytest.raises(FormatError, match=r"0001_01\.txt, line 3"):
        parse_strokes(b"START\n1,2,3\n1,2\nBREAK\n", "a/0001_01.txt")


def test_stroke_files_round_trip_through_the_parser():
    strokes = [np.array([[1.5, 2.0], [3.0, -4.5]]), np.array([[0.0, 0.0]])]
    drawing = parse_strokes(io.BytesIO(format_strokes(strokes).encode()).getvalue())
    check_drawing(drawing)
    np.testing.assert_allclose(drawing.points, np.concatenate(strokes), atol=1e-5)
