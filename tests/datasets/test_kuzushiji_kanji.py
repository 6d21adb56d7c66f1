"""Kuzushiji-Kanji PNG trees: folder and tar sources, random split, bad files, mixed sizes."""

import tarfile

import cv2
import numpy as np
import pytest

from charbench.datasets.kuzushiji_kanji import KuzushijiKanji, png_size
from charbench.errors import FormatError, OptionError
from charbench.synth.pages import write_kanji_tree
from tests.checks import check_converter


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("kanji") / "kkanji2"
    counts = write_kanji_tree(root, num_classes=8, per_class=20, zipf=1.0)
    return root, counts


def test_tree_end_to_end_pixel_exact(tree, tmp_path):
    root, counts = tree
    readers = check_converter("kuzushiji-kanji", root.parent, tmp_path / "out")
    index = readers["train"].index
    assert index["split"]["method"] == "random" and index["image_size"] == 64
    assert [c["codepoint"] for c in index["classes"]] == sorted(counts)
    assert [c["name"] for c in index["classes"]] == [chr(cp) for cp in sorted(counts)]
    assert sum(len(r) for r in readers.values()) == sum(counts.values()) == 54
    pngs = sorted(p.relative_to(root.parent).as_posix() for p in root.rglob("*.png"))
    total = np.zeros(len(counts), int)
    for r in readers.values():
        files = [pngs[s] for s in r.source_ids]  # source id = position in the sorted PNG paths
        assert [f"U+{index['classes'][y]['codepoint']:04X}" for y in r.labels] == [f.split("/")[1] for f in files]
        expected = np.stack([cv2.imread(str(root.parent / f), cv2.IMREAD_GRAYSCALE) for f in files])
        np.testing.assert_array_equal(r.images(), expected)  # white on black 64x64: kept as is
        total += np.bincount(r.labels, minlength=len(counts))
    assert total.tolist() == [counts[cp] for cp in sorted(counts)]
    with pytest.raises(OptionError, match="no group ids"):
        check_converter("kuzushiji-kanji", root, tmp_path / "out2", split="group")


def test_tar_source_gives_same_content(tree, tmp_path):
    root, _ = tree
    with tarfile.open(tmp_path / "kkanji.tar", "w") as tar:
        tar.add(root, arcname="kkanji2")
    a = check_converter("kuzushiji-kanji", root, tmp_path / "a")
    b = check_converter("kuzushiji-kanji", tmp_path / "kkanji.tar", tmp_path / "b")
    assert a["train"].dataset_hash == b["train"].dataset_hash


def test_bad_files_are_skipped_counted_or_fatal_when_strict(tmp_path):
    root = tmp_path / "kkanji2"
    write_kanji_tree(root, num_classes=3, per_class=4)
    (root / "notes.png").write_bytes(b"x")  # not in a class folder
    (root / "U+XYZ").mkdir()
    cv2.imwrite(str(root / "U+XYZ" / "a.png"), np.zeros((64, 64), np.uint8))
    (root / "U+4E00" / "broken.png").write_bytes(b"\x89PNG garbage")
    (root / "U+4E00" / "README.txt").write_text("not an image")
    conv = KuzushijiKanji(root)
    cat = conv.scan()
    assert len(cat) == 12 and sum(conv.skips.counts.values()) == 3
    assert conv.skips.counts["unreadable PNG header"] == 1
    assert any("broken.png is not a PNG file" in e for e in conv.skips.examples())
    assert any("U+XYZ/a.png" in e for e in conv.skips.examples())
    with pytest.raises(FormatError, match=r"(?=.*not a PNG file)(?=.*U\+XYZ/a.png)--strict: 3 bad input\(s\)"):
        check_converter("kuzushiji-kanji", root, tmp_path / "strict", strict=True)


def test_mixed_sizes_need_an_output_size(tmp_path):
    root = tmp_path / "kk"
    write_kanji_tree(root, num_classes=2, per_class=5)
    cv2.imwrite(str(root / "U+4E00" / "big.png"), 255 - np.pad(np.full((40, 20), 255, np.uint8), 20))
    with pytest.raises(OptionError, match="choose an output size with --size"):
        check_converter("kuzushiji-kanji", root, tmp_path / "out")
    readers = check_converter("kuzushiji-kanji", root, tmp_path / "out", size=32, split="random")
    assert sum(len(r) for r in readers.values()) == 11 and readers["train"].image_size == 32


def test_png_header_and_lying_header(tmp_path):
    data = cv2.imencode(".png", np.zeros((30, 50), np.uint8))[1]
    assert png_size(data.tobytes()[:24], "x.png") == (30, 50)
    with pytest.raises(FormatError, match="y.png is not a PNG file"):
        png_size(b"GIF89a" + bytes(30), "y.png")
    root = tmp_path / "kk"
    write_kanji_tree(root, num_classes=1, per_class=2)
    victim = min((root / "U+4E00").iterdir())
    conv = KuzushijiKanji(root)
    cat = conv.scan()
    assert cat.native_size == 64
    cv2.imwrite(str(victim), np.zeros((64, 32), np.uint8))  # replaced after the scan read its header
    with pytest.raises(FormatError, match=f"{victim.name} decodes to 32x64 pixels but its header says 64x64"):
        conv.load(np.arange(len(cat)))
    victim.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with pytest.raises(FormatError, match=f"{victim.name} cannot be decoded as a PNG image"):
        conv.load(np.arange(len(cat)))
