"""Omniglot stroke files: parsing, error lines, write/parse round trip, packing, and the real zip when present."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from charbench.errors import FormatError
from charbench.io.omniglot_strokes import Drawing, format_strokes, pack, parse_strokes, take
from charbench.io.source import is_junk

SAMPLE = "START\n1.5,-2.0,0\n3.0,-4.5,16\nBREAK\n10,-10,40\nBREAK\n"


def test_parse_flips_y_and_splits_strokes():
    d = parse_strokes(SAMPLE.encode(), "a.txt")
    np.testing.assert_array_equal(d.points, np.array([[1.5, 2.0], [3.0, 4.5], [10, 10]], np.float32))
    assert d.points.dtype == np.float32 and d.stroke_offsets.tolist() == [0, 2, 3] and d.num_strokes == 2


def test_lenient_structure():
    text = (
        "\r\nBREAK\r\nSTART\r\n1,-1,0\r\n\r\nBREAK\r\nBREAK\r\n2,-2,5\r\n3,-3,6"  # CRLF, empty strokes, no final BREAK
    )
    d = parse_strokes(text)
    assert d.stroke_offsets.tolist() == [0, 1, 3] and d.points[:, 1].tolist() == [1, 2, 3]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("START\n1,2,3\nPENUP\nBREAK\n", "line 3: expected 'x,y,t'.*'PENUP'"),
        ("START\n1,2\nBREAK\n", "line 2: .*'1,2'"),
        ("START\n1,inf,3\nBREAK\n", "line 2"),
        ("START\n1,2,3,4\nBREAK\n", "line 2"),
        ("START\nBREAK\n\n", "no pen samples"),
        (b"\x89PNG\r\n\x1a\n", "not a text stroke file"),
    ],
)
def test_bad_files_name_file_and_line(text, message):
    with pytest.raises(FormatError, match=f"^bad.txt.*{message}"):
        parse_strokes(text, "bad.txt")


def test_format_round_trip():
    rng = np.random.default_rng(0)
    strokes = [rng.uniform(0, 104, (n, 2)).astype(np.float32) for n in (1, 5, 30)]
    d = parse_strokes(format_strokes(strokes))
    np.testing.assert_allclose(d.points, np.concatenate(strokes), atol=1e-5)
    assert d.stroke_offsets.tolist() == [0, 1, 6, 36]
    assert format_strokes(strokes).splitlines()[1].endswith(",0")  # t column, milliseconds from 0


def test_pack_offsets():
    a = Drawing(np.zeros((3, 2), np.float32), np.array([0, 2, 3]))
    b = Drawing(np.ones((4, 2), np.float32), np.array([0, 4]))
    points, strokes, samples = pack([a, b, a])
    assert points.shape == (10, 2) and strokes.tolist() == [0, 2, 3, 7, 9, 10] and samples.tolist() == [0, 2, 3, 5]
    assert points[3:7].tolist() == [[1, 1]] * 4
    sub = take(points, strokes, samples, np.array([1, 1, 0]))
    assert sub[1].tolist() == [0, 4, 8, 10, 11] and sub[2].tolist() == [0, 1, 2, 4]
    np.testing.assert_array_equal(sub[0], np.concatenate([b.points, b.points, a.points]))
    assert take(points, strokes, samples, np.array([], np.int64))[0].shape == (0, 2)
    empty = pack([])
    assert empty[0].shape == (0, 2) and empty[1].tolist() == [0] and empty[2].tolist() == [0]


@pytest.mark.realdata
def test_real_strokes_zip_parses_and_matches_png_frame(real_data):
    folder = real_data / "omniglot"
    with (
        zipfile.ZipFile(folder / "strokes_background_small1.zip") as zs,
        zipfile.ZipFile(folder / "images_background_small1.zip") as zi,
    ):
        names = [n for n in zs.namelist() if n.endswith(".txt") and not is_junk(n)]
        assert len(names) == 2720 and sum(is_junk(n) for n in zs.namelist()) == 7
        offsets = []
        for n in names:
            d = parse_strokes(zs.read(n), n)
            assert d.num_strokes >= 1 and (d.points[:, 1] > 0).all()  # y flipped into the image frame
            if len(offsets) < 300:
                png = n.replace("strokes_", "images_").replace(".txt", ".png")
                ink = np.argwhere(~np.asarray(Image.open(io.BytesIO(zi.read(png)))))  # one-bit: False is ink
                box = np.array([ink[:, 1].min() + ink[:, 1].max(), ink[:, 0].min() + ink[:, 0].max()]) / 2
                offsets.append(box - (d.points.min(0) + d.points.max(0)) / 2)
    offsets = np.array(offsets)
    assert np.abs(offsets.mean(0)).max() < 0.5 and np.percentile(np.abs(offsets), 95) < 2  # same frame, in pixels
