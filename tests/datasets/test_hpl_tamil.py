"""hpl-tamil: synthetic HPL TIFF trees (every layout, junk, bad files) and pen data, and the real files."""

import hashlib
import io
import os
import re
import shutil
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from charbench.cli.main import main
from charbench.errors import FormatError, OptionError
from charbench.kernels import normalize
from charbench.synth.tiff import APPLEDOUBLE, write_hpl_tiffs
from charbench.synth.unipen import write_lipi_tree
from tests.checks import check_converter

NAME = re.compile(r"^(\d{3})t\d+(?:\.usr_(\d+))?\.tiff?$")


def count_names(root: Path) -> tuple[Counter, Counter, list[str]]:
    """Independent of the converter: classes and writers from file names, and the sorted TIFF list."""
    classes, writers, tiffs = Counter(), Counter(), []
    for folder, _, names in os.walk(root):
        for name in names:
            rel = os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
            if name.startswith("._") or "__MACOSX" in rel or not name.lower().endswith((".tif", ".tiff")):
                continue
            tiffs.append(rel)
            m = NAME.match(name)
            parent = os.path.basename(folder)
            writer = m.group(2) or (parent[4:] if parent.startswith("usr_") else "-1")
            classes[int(m.group(1))] += 1
            writers[int(writer)] += 1
    return classes, writers, sorted(tiffs)


def pillow_reference(path: Path, norm: dict) -> np.ndarray:
    with Image.open(path) as im:
        grey = np.asarray(im.convert("L"))
    return normalize(
        grey[None],
        size=norm["size"],
        binarize=norm["binarize"],
        margin=norm["margin"],
        center=norm["center"],
        invert=norm["invert"],
    )[0]


def all_rows(readers: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(np.concatenate([getattr(r, k) for r in readers.values()]) for k in ("labels", "groups", "source_ids"))


def test_nested_tree_with_junk_pixels_and_counts(tmp_path):
    raw = write_hpl_tiffs(tmp_path / "raw", num_classes=6, per_class=5, num_writers=8, seed=1)
    readers = check_converter("hpl-tamil", raw, tmp_path / "out")
    classes, writers, tiffs = count_names(raw)
    labels, groups, _ = all_rows(readers)
    assert Counter(labels.tolist()) == classes and Counter(groups.tolist()) == writers
    split_writers = [set(r.groups.tolist()) for r in readers.values()]
    assert all(a.isdisjoint(b) for i, a in enumerate(split_writers) for b in split_writers[i + 1 :])
    index = readers["train"].index
    junk = sum(
        1
        for p in raw.rglob("*")
        if p.is_file() and (p.name.startswith("._") or p.name == ".DS_Store" or "__MACOSX" in p.parts)
    )
    assert junk > 0 and index["skipped"] == {"operating-system junk files (.DS_Store, ._* AppleDouble, __MACOSX)": junk}
    assert index["num_classes"] == 156 and index["classes"][5] == {"name": "005", "codepoint": None}
    assert index["normalization"] == {"size": 64, "binarize": "otsu", "center": "mass", "margin": 2, "invert": "auto"}
    assert index["split"]["method"] == "group" and index["split"]["group_by"] == "writer"
    for r in readers.values():
        expected = np.stack([pillow_reference(raw / tiffs[i], index["normalization"]) for i in r.source_ids])
        np.testing.assert_array_equal(r.images(), expected)
    # the digests remembered during the scan equal the files' own: an independent sha256 of every used file
    listed = {f["name"]: f["sha256"] for f in index["sources"]["files"]}
    assert listed == {t: hashlib.sha256((raw / t).read_bytes()).hexdigest() for t in tiffs}


def test_flat_and_loose_names_in_a_zip(tmp_path):
    flat = write_hpl_tiffs(tmp_path / "t" / "flat", num_classes=3, per_class=4, num_writers=4, layout="flat")
    write_hpl_tiffs(tmp_path / "t" / "loose", num_classes=3, per_class=2, num_writers=2, layout="loose", seed=3)
    archive = tmp_path / "hpl.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in sorted((tmp_path / "t").rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(tmp_path / "t").as_posix())
        zf.writestr("__MACOSX/flat/._000t01.usr_0.tiff", APPLEDOUBLE)
        zf.writestr("hpl-tamil-unicode-map.txt", "# id -> Tamil\n0 0x0B85\n1 0x0B86\n2 0x0B95 0x0BCD\n")
    readers = check_converter("hpl-tamil", archive, tmp_path / "out", split="random", size=32)
    assert readers["train"].class_names[:4] == ["அ", "ஆ", "க்", "003"]
    classes, writers, _ = count_names(tmp_path / "t")
    labels, groups, _ = all_rows(readers)
    assert Counter(labels.tolist()) == classes and Counter(groups.tolist()) == writers
    assert (groups == -1).sum() == 6 and len(labels) == 18
    assert readers["train"].index["sources"]["files"][0]["name"] == "hpl.zip"
    assert flat.is_dir()


def test_eight_bit_compressed_any_aspect(tmp_path):
    raw = write_hpl_tiffs(
        tmp_path / "raw",
        num_classes=3,
        per_class=4,
        num_writers=4,
        bits=8,
        compression="tiff_lzw",
        sizes=(12, 300),
        junk=False,
    )
    readers = check_converter("hpl-tamil", raw, tmp_path / "out", split="random", fractions=(0.5, 0.25, 0.25))
    _, _, tiffs = count_names(raw)
    norm = readers["train"].index["normalization"]
    for r in readers.values():
        assert (r.images().reshape(len(r), -1).max(axis=1) == 255).all()  # every image kept its ink
        expected = np.stack([pillow_reference(raw / tiffs[i], norm) for i in r.source_ids])
        np.testing.assert_array_equal(r.images(), expected)


def test_published_train_test_folders(tmp_path):
    raw = write_hpl_tiffs(tmp_path / "raw", num_classes=4, per_class=6, num_writers=8, test_writers=2, junk=False)
    readers = check_converter("hpl-tamil", raw, tmp_path / "out", split="official", val_fraction=0.2)
    _, _, tiffs = count_names(raw)
    test_files = {f for f in tiffs if f.startswith("test/")}
    assert {tiffs[i] for i in readers["test"].source_ids} == test_files
    assert set(readers["train"].groups.tolist()).isdisjoint(readers["val"].groups.tolist())
    assert set(readers["test"].groups.tolist()) == {6, 7}
    default = check_converter("hpl-tamil", raw, tmp_path / "default", val_fraction=0.2)  # official by default here
    assert default["test"].index["split"]["method"] == "official"
    np.testing.assert_array_equal(default["test"].source_ids, readers["test"].source_ids)
    flat = write_hpl_tiffs(tmp_path / "flat", num_classes=4, per_class=6, num_writers=8, junk=False)
    grouped = check_converter("hpl-tamil", flat, tmp_path / "grouped")  # no published split: by writer
    assert grouped["train"].index["split"]["method"] == "group"


ONE_OF_EACH_BAD_FILE = {
    "zero-byte TIFF files": 1,
    "unreadable TIFF files": 1,
    "class ids outside 000-155": 1,
    "TIFF names not like 154t05.tiff, 154t05.usr_26.tiff or usr_26/154t05.tiff": 1,
}


def add_bad_tiffs(raw: Path) -> None:
    """One file of each kind the scan skips, in ``usr_1/``: empty, truncated, badly named, class id too high."""
    good = next(raw.rglob("*.tiff")).read_bytes()
    (raw / "usr_1" / "000t99.tiff").write_bytes(b"")
    (raw / "usr_1" / "001t98.tiff").write_bytes(good[: len(good) // 2])
    (raw / "usr_1" / "scan 3.tiff").write_bytes(good)
    (raw / "usr_1" / "200t01.tiff").write_bytes(good)


def test_bad_files_are_skipped_counted_and_strict_fails(tmp_path, capsys):
    raw = write_hpl_tiffs(tmp_path / "raw", num_classes=3, per_class=4, num_writers=4, junk=False)
    add_bad_tiffs(raw)
    readers = check_converter("hpl-tamil", raw, tmp_path / "out")
    assert sum(len(r) for r in readers.values()) == 12
    index = readers["train"].index
    assert index["skipped"] == ONE_OF_EACH_BAD_FILE
    shown = " ".join(index["skipped_examples"])
    assert all(n in shown for n in ("000t99.tiff", "001t98.tiff", "scan 3.tiff", "200t01.tiff"))
    with pytest.raises(FormatError, match=r"usr_1/(000t99|001t98|200t01|scan 3)\.tiff"):
        check_converter("hpl-tamil", raw, tmp_path / "strict", strict=True)
    assert not (tmp_path / "strict" / "hpl-tamil").exists()
    rc = main(
        [
            "prepare",
            "hpl-tamil",
            "--source",
            str(raw),
            "--out",
            str(tmp_path / "cli"),
            "--strict",
            "--quiet",
            "--workers",
            "1",
        ]
    )
    out = capsys.readouterr()
    assert rc == 1 and "Traceback" not in out.err + out.out and "--strict" in out.err + out.out


def test_same_shards_whatever_the_worker_count(tmp_path):
    raw = write_hpl_tiffs(tmp_path / "raw", num_classes=4, per_class=6, num_writers=6, junk=False)
    one = check_converter("hpl-tamil", raw, tmp_path / "w1", workers=1, shard_size=5)
    two = check_converter("hpl-tamil", raw, tmp_path / "w2", workers=2, shard_size=5)
    assert one["train"].dataset_hash == two["train"].dataset_hash
    assert {s: r.content_hash for s, r in one.items()} == {s: r.content_hash for s, r in two.items()}
    assert len(one["train"].shard_paths) > 1


def test_parallel_header_check_matches_the_serial_one(tmp_path, monkeypatch):
    from charbench.datasets import hpl_tamil

    raw = write_hpl_tiffs(tmp_path / "raw", num_classes=4, per_class=6, num_writers=6, junk=False)
    add_bad_tiffs(raw)
    monkeypatch.setattr(hpl_tamil, "SCAN_CHUNK", 3)  # 28 files: 10 chunks over 2 processes
    one = check_converter("hpl-tamil", raw, tmp_path / "w1", workers=1, shard_size=5)
    two = check_converter("hpl-tamil", raw, tmp_path / "w2", workers=2, shard_size=5)
    assert one["train"].dataset_hash == two["train"].dataset_hash
    for key in ("skipped", "skipped_examples", "sources"):
        assert one["train"].index[key] == two["train"].index[key], key
    assert one["train"].index["skipped"] == ONE_OF_EACH_BAD_FILE


def test_online_pen_files_with_unicode_map(tmp_path):
    names = {0: "அ", 1: "ஆ", 2: "க்", 3: "கா"}
    written = write_lipi_tree(
        tmp_path / "raw",
        num_classes=4,
        per_class=5,
        num_writers=5,
        test_writers=1,
        id_width=3,
        writer_dir="usr_{}",
        unicode_map=names,
    )
    readers = check_converter("hpl-tamil", tmp_path / "raw", tmp_path / "out")
    index = readers["train"].index
    assert index["num_classes"] == 156
    assert [c["name"] for c in index["classes"][:5]] == ["அ", "ஆ", "க்", "கா", "004"]
    assert index["classes"][0]["codepoint"] == ord("அ") and index["classes"][2]["codepoint"] is None
    labels, groups, _ = all_rows(readers)
    assert Counter(labels.tolist()) == Counter(int(w.label) for w in written)
    assert Counter(groups.tolist()) == Counter(w.writer for w in written)
    assert index["normalization"]["binarize"] == "otsu" and readers["train"].image_size == 64


def test_both_forms_need_from(tmp_path):
    write_hpl_tiffs(tmp_path / "raw", num_classes=2, per_class=3, num_writers=2, junk=False)
    write_lipi_tree(
        tmp_path / "raw" / "online", num_classes=2, per_class=2, num_writers=2, test_writers=0, id_width=3, lists=False
    )
    with pytest.raises(OptionError, match="--from images or --from strokes"):
        check_converter("hpl-tamil", tmp_path / "raw", tmp_path / "out")
    images = check_converter(
        "hpl-tamil", tmp_path / "raw", tmp_path / "a", split="random", options={"modality": "images"}
    )
    strokes = check_converter(
        "hpl-tamil", tmp_path / "raw", tmp_path / "b", split="random", options={"modality": "strokes"}
    )
    assert sum(len(r) for r in images.values()) == 6 and sum(len(r) for r in strokes.values()) == 4


@pytest.mark.realdata
def test_real_hpl_offline_subset(real_data, tmp_path):
    raw = real_data / "tamil" / "hpl-tamil-iso-char-offline-subset"
    readers = check_converter("hpl-tamil", raw, tmp_path / "out", split="official", shard_size=400)
    classes, writers, tiffs = count_names(raw)
    labels, groups, _ = all_rows(readers)
    assert len(tiffs) == len(labels) == 1060
    assert Counter(labels.tolist()) == classes and classes[0] == 528 and classes[51] == 521
    assert all(classes[c] == 1 for c in range(1, 12))
    assert len([w for w in writers if w >= 0]) == 169 and writers[-1] == 12
    assert Counter(groups.tolist()) == writers
    test = readers["test"]
    assert sorted(test.labels.tolist()) == list(range(12)) and (test.groups == -1).all()
    assert {tiffs[i].split("/")[0] for i in test.source_ids} == {"test_data"}
    norm = test.index["normalization"]
    sample = readers["train"]
    for k in range(0, len(sample), 97):
        i = sample.source_ids[k]
        np.testing.assert_array_equal(sample.read(k, k + 1)[0], pillow_reference(raw / tiffs[i], norm))
    assert test.index["skipped"] == {}


def test_modality_option_checked(tmp_path):
    raw = write_hpl_tiffs(tmp_path / "raw", num_classes=2, per_class=2, num_writers=2, junk=False)
    with pytest.raises(OptionError, match="--from takes images or strokes"):
        check_converter("hpl-tamil", raw, tmp_path / "out", options={"modality": "video"})
    shutil.rmtree(raw)
    raw.mkdir()
    (raw / "notes.txt").write_text("nothing here\n")
    with pytest.raises(Exception, match="no UNIPEN files"):
        check_converter("hpl-tamil", raw, tmp_path / "out2")
    assert io is not None


def test_fetched_folder_of_tarballs_reads_each_sample_once_with_the_published_split(tmp_path):
    """The combined tarball beside the IWFHR train/test tarballs (as `charbench fetch hpl-tamil --all` leaves them):
    every sample is read once, and the test tarball marks the test side."""
    import tarfile

    tree = write_hpl_tiffs(tmp_path / "tree", num_classes=3, per_class=6, num_writers=6, test_writers=2, junk=False)
    raw = tmp_path / "raw"
    raw.mkdir()
    with tarfile.open(raw / "hpl-tamil-iso-char-offline-1.0.tar.gz", "w:gz") as tar:  # one folder, no split
        for f in sorted(tree.rglob("*.tiff")):
            tar.add(f, arcname=f"hpl-tamil-iso-char-offline-1.0/{f.parent.name}/{f.name}")
    for split in ("train", "test"):
        with tarfile.open(raw / f"hpl-tamil-iso-char-{split}-offline-1.0.tar.gz", "w:gz") as tar:
            tar.add(tree / split, arcname=f"hpl-tamil-iso-char-{split}-offline-1.0/{split}")
    readers = check_converter("hpl-tamil", raw, tmp_path / "out", val_fraction=0.0)
    test_files = len(list((tree / "test").rglob("*.tiff")))
    assert {s: len(r) for s, r in readers.items()} == {"train": 18 - test_files, "test": test_files}
    assert set(readers["test"].groups.tolist()) == {4, 5}  # the test writers
    index = readers["train"].index
    assert index["skipped"]["samples found again under another path (class, writer and sample number already read)"] \
        == 18
    assert index["split"]["method"] == "official"
