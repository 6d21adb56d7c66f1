"""unipen: Lipi Toolkit trees and UNIPEN 1.0 collections written in code, bad files, and the real Lipi numerals."""

import os
import re
import zipfile
from collections import Counter

import numpy as np
import pytest

from charbench.errors import FormatError, OptionError
from charbench.kernels import rasterize_strokes
from charbench.synth.tiff import APPLEDOUBLE
from charbench.synth.unipen import UNITS, write_lipi_tree, write_unipen_collection
from tests.checks import check_converter

STRIDE = 100_000


def all_rows(readers: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(np.concatenate([getattr(r, k) for r in readers.values()]) for k in ("labels", "groups", "source_ids"))


def reference(strokes_px: list[np.ndarray], size: int = 64) -> np.ndarray:
    """Render strokes already in image orientation (y down), as the converter must have."""
    lo = np.concatenate(strokes_px).min(axis=0)
    pts = np.concatenate([s - lo for s in strokes_px]).astype(np.float32)
    so = np.concatenate([[0], np.cumsum([len(s) for s in strokes_px])])
    return rasterize_strokes(pts, so, np.array([0, len(strokes_px)]), size=size)[0]


def test_lipi_tree_lists_split_and_pixels(tmp_path):
    written = write_lipi_tree(tmp_path / "raw", num_classes=5, per_class=6, num_writers=6, test_writers=2)
    readers = check_converter("unipen", tmp_path / "raw", tmp_path / "out", output_name="lipi", split="official")
    labels, groups, _ = all_rows(readers)
    assert Counter(labels.tolist()) == Counter(int(w.label) for w in written)
    assert Counter(groups.tolist()) == Counter(w.writer for w in written)
    assert set(readers["test"].groups.tolist()) == {4, 5}
    assert set(readers["train"].groups.tolist()).isdisjoint(readers["val"].groups.tolist())
    index = readers["test"].index
    assert index["normalization"] == {"size": 64, "binarize": "none", "center": "none", "margin": 2, "invert": "no"}
    assert [c["name"] for c in index["classes"]] == ["0", "1", "2", "3", "4"]
    assert index["classes"][0]["codepoint"] is None  # a bare id is not the character "0"
    files = sorted(w.file for w in written)
    by_file = {w.file: w for w in written}
    for r in readers.values():
        for img, sid in zip(r.images(), r.source_ids):
            w = by_file[files[sid // STRIDE]]
            assert sid % STRIDE == 0
            strokes = [np.round(s * UNITS + 300) for s in w.strokes]  # Lipi files are screen coordinates, y down
            np.testing.assert_array_equal(img, reference(strokes))


def test_collection_segments_bad_quality_and_words(tmp_path):
    written = write_unipen_collection(tmp_path / "raw", num_classes=5, per_class=6, num_writers=4, bad_every=5)
    ok = [w for w in written if w.quality != "BAD"]
    readers = check_converter("unipen", tmp_path / "raw", tmp_path / "out", output_name="latin")
    labels, groups, source_ids = all_rows(readers)
    names = readers["train"].class_names
    assert names == ["a", "b", "c", "d", "e"] and readers["train"].index["classes"][0]["codepoint"] == ord("a")
    assert Counter(names[y] for y in labels) == Counter(w.label for w in ok)
    files = sorted({w.file for w in written})
    expect_ids = {files.index(w.file) * STRIDE + w.segment for w in ok}
    assert set(source_ids.tolist()) == expect_ids
    index = readers["train"].index
    assert index["skipped"] == {"segments marked BAD (kept with --keep-bad)": len(written) - len(ok)}
    assert len(set(groups.tolist())) == 4 and index["notes"]["writer_names"] == ["W000", "W001", "W002", "W003"]
    kept = check_converter("unipen", tmp_path / "raw", tmp_path / "kept", options={"keep_bad": True})
    assert sum(len(r) for r in kept.values()) == len(written)
    words = check_converter("unipen", tmp_path / "raw", tmp_path / "words", split="random", options={"label": "word"})
    n_words = sum(-(-sum(1 for w in written if w.writer == k) // 3) for k in range(4))
    assert sum(len(r) for r in words.values()) == n_words
    assert all(len(name) <= 3 for name in words["train"].class_names)


def test_collection_pixels_y_up_and_include(tmp_path):
    written = write_unipen_collection(tmp_path / "raw", num_classes=4, per_class=4, num_writers=2, include=True)
    readers = check_converter("unipen", tmp_path / "raw", tmp_path / "out", split="random", size=48)
    files = sorted({w.file for w in written} | {f"include/w{k}/pen.dat" for k in range(2)})
    index = readers["train"].index
    assert index["notes"]["included_files"] == 2 and index["skipped"] == {}
    by_id = {files.index(w.file) * STRIDE + w.segment: w for w in written}
    for r in readers.values():
        for img, sid in zip(r.images(), r.source_ids):
            w = by_id[int(sid)]
            # the file holds x * UNITS, (1 - y) * UNITS (y up); flipping back gives the glyph, up to rounding
            strokes = [
                np.column_stack([np.round(s[:, 0] * UNITS), -np.round((1 - s[:, 1]) * UNITS)]) for s in w.strokes
            ]
            diff = np.abs(img.astype(int) - reference(strokes, 48).astype(int))
            assert diff.max() <= 2, (w, diff.max())


def test_zip_with_junk_and_bad_files(tmp_path):
    write_unipen_collection(tmp_path / "raw", num_classes=3, per_class=4, num_writers=2)
    bad = {
        "data/cut.dat": '.COORD X Y\n.SEGMENT CHARACTER 0 OK "a"\n.PEN_DOWN\n1 2\n3 4\n5\n',
        "data/stray.dat": '.COORD X Y\n.SEGMENT CHARACTER 0 OK "a"\n.PEN_DOWN\n1 2\n.PEN_DOWN\n3 4\n',
        "data/missing.dat": '.SEGMENT CHARACTER 0 OK "a"\n.INCLUDE gone.dat\n',
        "data/range.dat": '.SEGMENT CHARACTER 0-4 OK "a"\n.PEN_DOWN\n1 2\n',
    }
    archive = tmp_path / "col.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in sorted((tmp_path / "raw").rglob("*")):
            zf.write(p, p.relative_to(tmp_path / "raw").as_posix())
        for name, text in bad.items():
            zf.writestr(name, text)
        zf.writestr("__MACOSX/data/._w0.dat", APPLEDOUBLE)
        zf.writestr("data/._w1.dat", APPLEDOUBLE)
        zf.writestr("data/.DS_Store", b"\0\0\0\1Bud1")
    readers = check_converter("unipen", archive, tmp_path / "out", split="random")
    assert sum(len(r) for r in readers.values()) == 12
    index = readers["train"].index
    assert index["skipped"] == {
        "UNIPEN files with an unterminated or malformed block": 1,
        "UNIPEN files with a point block outside any segment": 1,
        "UNIPEN files whose .INCLUDE cannot be found": 1,
        "segments naming components that are not in the file": 1,
        "operating-system junk files (.DS_Store, ._* AppleDouble, __MACOSX)": 3,
    }
    assert all(any(name in e for e in index["skipped_examples"]) for name in bad)
    with pytest.raises(FormatError, match=r"data/(cut|stray|missing|range)\.dat"):
        check_converter("unipen", archive, tmp_path / "strict", split="random", strict=True)


def test_workers_give_identical_shards(tmp_path):
    write_unipen_collection(tmp_path / "raw", num_classes=4, per_class=5, num_writers=3)
    one = check_converter("unipen", tmp_path / "raw", tmp_path / "w1", split="random", workers=1, shard_size=4)
    two = check_converter("unipen", tmp_path / "raw", tmp_path / "w2", split="random", workers=2, shard_size=4)
    assert one["train"].dataset_hash == two["train"].dataset_hash and len(one["train"].shard_paths) > 1


def test_options_are_checked(tmp_path):
    write_unipen_collection(tmp_path / "raw", num_classes=2, per_class=2, num_writers=1)
    for opts, match in (
        ({"y_axis": "sideways"}, "y_axis"),
        ({"pen_width": "fat"}, "pen_width"),
        ({"label": " "}, "--label"),
    ):
        with pytest.raises(OptionError, match=match):
            check_converter("unipen", tmp_path / "raw", tmp_path / "out", options=opts)


@pytest.mark.realdata
def test_real_lipi_numerals(real_data, tmp_path):
    raw = real_data / "tamil" / "lipitk-numerals-unipen"
    readers = check_converter(
        "unipen", raw, tmp_path / "out", output_name="lipi-numerals", split="official", val_fraction=0.2
    )
    names, writers = Counter(), Counter()
    for folder, _, files in os.walk(raw / "data" / "raw"):
        for f in files:
            m = re.match(r"(\d{6})t\d\d\.txt$", f)
            names[int(m.group(1))] += 1
            writers[int(os.path.basename(folder)[3:])] += 1
    labels, groups, _ = all_rows(readers)
    assert len(labels) == 160 and Counter(labels.tolist()) == names and set(names.values()) == {16}
    assert Counter(groups.tolist()) == writers and len(writers) == 8
    assert set(readers["test"].groups.tolist()) == {6, 7} and len(readers["test"]) == 40
    assert len(readers["train"]) + len(readers["val"]) == 120
    index = readers["test"].index
    assert [c["name"] for c in index["classes"]] == [str(d) for d in range(10)]  # from "English Numerals.txt"
    assert index["classes"][7]["codepoint"] == ord("7") and index["skipped"] == {}
    ink = readers["test"].images().reshape(40, -1)
    assert (ink.max(axis=1) == 255).all() and ((ink > 0).mean(axis=1) > 0.03).all()
