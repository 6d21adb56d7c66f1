"""UNIPEN parsing: component numbering, delineations, labels, includes, bad files, and the Lipi side files."""

import numpy as np
import pytest

from charbench.errors import FormatError
from charbench.io import unipen as up
from charbench.synth.unipen import UNITS, write_unipen_collection

NICI_LIKE = """.VERSION 1.0
.COORD X Y
.HIERARCHY WORD CHAR
.START_SET
.SEGMENT WORD 0-2 OK "ab"
.SEGMENT CHAR 0:0-1:1 BAD "a"
.SEGMENT CHAR 1:1-2:2 ? "b"
.PEN_DOWN
 10 10
 20 20
 30 10
.PEN_UP
 31 10
 40 10
.PEN_DOWN
 50 10
 55 30
 60 10
 65 -5
"""


def test_components_count_pen_up_blocks_and_point_ranges():
    doc = up.parse_unipen(NICI_LIKE, "w.dat")
    assert doc.pen_down.tolist() == [True, False, True]
    assert np.diff(doc.starts).tolist() == [3, 2, 4]
    word, a, b = doc.segments
    assert (word.level, word.quality, word.label, word.index) == ("WORD", "OK", "ab", 0)
    assert (a.level, a.quality, a.label) == ("CHAR", "BAD", "a")
    assert [s.tolist() for s in doc.strokes(a)] == [[[10, 10], [20, 20], [30, 10]]]  # pen-up points are not ink
    assert [s.tolist() for s in doc.strokes(b)] == [[[50, 10], [55, 30], [60, 10]]]  # up to point 2, inclusive
    assert [len(s) for s in doc.strokes(word)] == [3, 4]
    assert doc.uncovered_ink() == [] and all(doc.check_segment(s) is None for s in doc.segments)


def test_pen_down_without_pen_up_time_column_and_resolution():
    text = (
        '.COORD X Y T\n.X_POINTS_PER_INCH 1000\n.Y_POINTS_PER_INCH 500\n.SEGMENT CHARACTER 0-1 OK "x"\n'
        ".PEN_DOWN\n1 2 100\n3 4 0\n.PEN_DOWN\n5 6 0\n"
    )
    doc = up.parse_unipen(text, "t.dat")
    assert doc.pen_down.tolist() == [True, True] and doc.y_scale == 2.0
    assert [s.tolist() for s in doc.strokes(doc.segments[0])] == [[[1, 2], [3, 4]], [[5, 6]]]


def test_start_set_restarts_numbering_and_out_of_range_segments():
    text = (
        '.SEGMENT CHAR 0 OK "p"\n.PEN_DOWN\n0 0\n1 1\n.START_SET\n.SEGMENT CHAR 0 OK "q"\n'
        '.SEGMENT CHAR 1 OK "r"\n.SEGMENT CHAR 0:5-0:6 OK "s"\n.PEN_DOWN\n7 7\n8 8\n'
    )
    doc = up.parse_unipen(text, "s.dat")
    p, q, r, s = doc.segments
    assert doc.strokes(q)[0].tolist() == [[7, 7], [8, 8]] and doc.strokes(p)[0].tolist() == [[0, 0], [1, 1]]
    assert doc.check_segment(r) == "segments naming components that are not in the file"
    assert doc.check_segment(s) == "segments naming points that are not in the file"


def test_labels_with_escapes_and_multiline_statements():
    text = '.COMMENT a comment\n  spanning lines\n.SEGMENT CHARACTER 0 OK "say \\"hi\\" \\\\ ok"\n.PEN_DOWN\n1 1\n2 2\n'
    assert up.parse_unipen(text, "l.dat").segments[0].label == 'say "hi" \\ ok'
    with pytest.raises(up.UnipenError, match="closing quote") as info:
        up.parse_unipen('.SEGMENT CHARACTER 0 OK "open\n.PEN_DOWN\n1 1\n', "q.dat")
    assert info.value.reason == up.UNTERMINATED


@pytest.mark.parametrize(
    "text,reason",
    [
        (".COORD X Y\n.PEN_DOWN\n1 2\n3 4\n5\n", up.UNTERMINATED),  # file cut inside a row
        (".COORD X Y\n.PEN_DOWN\n1 2\n3 x\n", up.UNTERMINATED),
        ('.COORD X Y\n.SEGMENT CHARACTER 0 OK "a"\n.PEN_DOWN\n1 2\n.PEN_DOWN\n', up.UNTERMINATED),
        ("1 2\n3 4\n.PEN_DOWN\n5 6\n", up.OUTSIDE),  # points before any statement
        (".INCLUDE nowhere.dat\n", up.NO_INCLUDE),
    ],
)
def test_bad_files(text, reason):
    with pytest.raises(up.UnipenError) as info:
        up.parse_unipen(text, "bad.dat")
    assert info.value.reason == reason and "bad.dat" in str(info.value)
    assert isinstance(info.value, FormatError)


def test_ink_outside_every_segment():
    text = '.SEGMENT CHAR 0 OK "a"\n.PEN_DOWN\n1 1\n.PEN_UP\n2 2\n.PEN_DOWN\n3 3\n'
    assert up.parse_unipen(text, "o.dat").uncovered_ink() == [2]
    assert up.parse_unipen(".SEGMENT CHARACTER\n.PEN_DOWN\n1 1\n", "lipi.txt").uncovered_ink() == []


def test_include_is_read_in_place():
    files = {"include/w1/pen.dat": ".PEN_DOWN\n1 1\n2 2\n.PEN_UP\n3 3\n"}

    def include(name, target):
        found = next((c for c in up.include_candidates(name, target) if c in files), None)
        return None if found is None else (found, files[found])

    doc = up.parse_unipen('.SEGMENT CHAR 0 OK "z"\n.INCLUDE w1/pen.dat\n.PEN_DOWN\n9 9\n', "data/x/w1.dat", include)
    assert doc.pen_down.tolist() == [True, False, True] and doc.strokes(doc.segments[0])[0].tolist() == [[1, 1], [2, 2]]
    assert up.include_candidates("data/x/w1.dat", "p.dat")[:2] == ["data/x/p.dat", "data/x/include/p.dat"]
    assert "include/p.dat" in up.include_candidates("data/x/w1.dat", "p.dat")
    assert all(not c.startswith("..") for c in up.include_candidates("a/b.dat", "../../etc/passwd"))


def test_delineation_grammar():
    assert up.parse_delineation("0-3") == (((0, None), (3, None)),)
    assert up.parse_delineation("5,7") == (((5, None), (5, None)), ((7, None), (7, None)))
    assert up.parse_delineation("0:0-1:1") == (((0, 0), (1, 1)),)
    for bad in ("a-b", "0--1", "", "1:"):
        with pytest.raises(FormatError):
            up.parse_delineation(bad)


def test_lipi_names_and_side_files():
    assert up.lipi_name("data/raw/usr3/000007t02.txt") == (7, 2, 3)
    assert up.lipi_name("usr_12/154t05.txt") == (154, 5, 12)
    assert up.lipi_name("loose/9t1.txt") == (9, 1, -1) and up.lipi_name("data/readme.txt") is None
    listed = up.read_list_file("$LIPI_ROOT/projects/n/data/raw/usr6/000000t01.txt 0 \nC:\\x\\usr7\\000001t02.txt 1\n")
    assert listed == {"usr6/000000t01.txt": "0", "usr7/000001t02.txt": "1"}
    assert up.read_map_file("0 usr[0-5]/000000t*.txt\n1 e:/lipitk/data/raw/usr[6-7]/000001t*.txt\n") == [
        ("0", "usr[0-5]/000000t*.txt"),
        ("1", "usr[6-7]/000001t*.txt"),
    ]
    assert up.read_unicode_map("#FONT ARIAL\n0 0\n1 0x0B85\n2 U+0B95 0x0BCD\nEOF") == {0: "0", 1: "அ", 2: "க்"}
    for text in (".VERSION 1.0\n", "hello world\n", "0 usr1/x.txt\n"):
        assert up.read_unicode_map(text) is None
    assert up.read_list_file("<SCRIPT=NUMERALS>\n") is None
    assert up.looks_like_unipen(b"\xef\xbb\xbf\n  .VERSION 1.0\n") and not up.looks_like_unipen(b"0 usr1/x\n")


def test_synthetic_collection_round_trip(tmp_path):
    written = write_unipen_collection(tmp_path, num_classes=4, per_class=3, num_writers=2, bad_every=4, include=True)
    docs = {}
    for w in written:
        if w.file not in docs:
            text = (tmp_path / w.file).read_text()
            docs[w.file] = up.parse_unipen(
                text,
                w.file,
                lambda n, t: next(
                    ((c, (tmp_path / c).read_text()) for c in up.include_candidates(n, t) if (tmp_path / c).is_file()),
                    None,
                ),
            )
        doc = docs[w.file]
        seg = doc.segments[w.segment]
        assert (seg.label, seg.quality, seg.level) == (w.label, w.quality, "CHARACTER")
        got = doc.strokes(seg)
        assert len(got) == len(w.strokes)
        for g, s in zip(got, w.strokes):  # y up in the file, shifted right by the position in the word
            assert np.abs((g[:, 1] - 500) / UNITS - (1 - s[:, 1])).max() <= 0.5 / UNITS + 1e-9
            dx = (g[:, 0] - 500) / UNITS - s[:, 0]
            assert np.ptp(dx) <= 1 / UNITS + 1e-9
    assert {d.uncovered_ink() == [] for d in docs.values()} == {True}
