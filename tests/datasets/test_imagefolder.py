"""imagefolder: every layout, format and mode, junk, corrupt files, class order and maps, and the real MNIST PNGs."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from charbench.datasets.base import JUNK, Decoded, load_image_files
from charbench.datasets.imagefolder import EMPTY_CLASSES, NOT_IMAGES, UNREADABLE, ImageFolder, read_class_map
from charbench.errors import FormatError, OptionError
from charbench.io.source import RawSource
from charbench.kernels.polarity import polarity
from charbench.kernels.ragged import Ragged
from charbench.synth.imagefolder import FORMATS, image_bytes, write_image_folder
from tests.checks import check_converter


def independent(root: Path, rels: list[str]) -> np.ndarray:
    """Pillow's own grey conversion of the files (alpha over white), without charbench's decoder."""
    out = []
    for rel in rels:
        with Image.open(root / rel) as im:
            im.seek(0)
            if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
                im = Image.alpha_composite(Image.new("RGBA", im.size, "white"), im.convert("RGBA"))
            out.append(np.asarray(im.convert("L")))
    return np.stack(out)


def images_of(root: Path) -> list[str]:
    """The image files of a tree in sorted path order (what source ids number), junk left out."""
    found = []
    for folder, _, names in os.walk(root):
        for name in names:
            rel = os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
            if not name.startswith(("._", ".")) and not name.endswith(".txt"):
                found.append(rel)
    return sorted(found)


def test_split_folders_every_format_pixel_exact_and_inverted(tmp_path):
    root = write_image_folder(tmp_path / "raw", formats=FORMATS)
    readers = check_converter("imagefolder", root, tmp_path / "out", output_name="mixed", val_fraction=0.25)
    index = readers["train"].index
    assert index["split"]["method"] == "official" and index["notes"]["layout"] == "<split>/<class>/<file>"
    assert index["normalization"]["invert"] == "yes"  # dark ink on paper, kept pixel-exact: inverted as a whole
    assert index["skipped"] == {JUNK: 2, NOT_IMAGES: 1}
    rels = images_of(root)
    for split, r in readers.items():
        files = [rels[s] for s in r.source_ids]
        assert all(f.startswith("test/" if split == "test" else "train/") for f in files)
        assert [f.split("/")[1] for f in files] == [r.class_names[y] for y in r.labels]
        np.testing.assert_array_equal(r.images(), 255 - independent(root, files))
        assert not polarity(r.images())[0].any()  # white ink on black
    assert readers["train"].class_names == ["0", "1", "2", "3"]


def test_class_folders_zip_and_numeric_order(tmp_path):
    names = ["10", "2", "1"]
    tree = write_image_folder(tmp_path / "tree", layout="classes", num_classes=3, class_names=names, junk=False)
    zipped = write_image_folder(tmp_path / "zipped" / "digits", layout="classes", num_classes=3, class_names=names,
                                zipped=True)
    a = check_converter("imagefolder", tree, tmp_path / "a", output_name="d", split="random")
    b = check_converter("imagefolder", zipped, tmp_path / "b", output_name="d", split="random")
    assert a["train"].dataset_hash == b["train"].dataset_hash  # a zip (with its wrapper folder) reads as the tree
    table = a["train"].class_names
    assert len(table) == 11 and table[1] == "1" and table[2] == "2" and table[10] == "10"  # index = number
    assert a["train"].index["notes"]["layout"] == "<class>/<file>"


def test_named_classes_sort_and_a_class_map_names_them(tmp_path):
    root = write_image_folder(tmp_path / "raw", num_classes=3, class_names=["ka", "a", "ki"], junk=False)
    (root / "train" / "empty_class").mkdir()
    cmap = tmp_path / "classes.txt"
    cmap.write_text("a:あ\nka:か\n", encoding="utf-8")
    readers = check_converter("imagefolder", root, tmp_path / "out", output_name="kana",
                              options={"classes": str(cmap)})
    index = readers["train"].index
    assert [c["name"] for c in index["classes"]] == ["あ", "empty_class", "か", "ki"]  # sorted folder names
    assert [c["codepoint"] for c in index["classes"]] == [0x3042, None, 0x304B, None]
    assert index["skipped"][EMPTY_CLASSES] == 1
    csv_map = tmp_path / "classes.csv"
    csv_map.write_text("id,char\n0,zero\n1,one\n", encoding="utf-8")
    assert read_class_map(csv_map) == {"0": "zero", "1": "one"}
    bad = tmp_path / "bad.txt"
    bad.write_text("a:b:c\nnothing\n", encoding="utf-8")
    with pytest.raises(FormatError, match="line 2: expected 'id:char'"):
        read_class_map(bad)


def test_flat_folder_with_a_label_pattern_and_groups(tmp_path):
    root = write_image_folder(tmp_path / "raw", layout="flat", num_classes=3, per_class=8, junk=False)
    (root / "train" / "notes.png").write_bytes((root / "train" / os.listdir(root / "train")[0]).read_bytes())
    pattern = r"(?P<label>\d+)t\d+\.usr_(?P<group>\d+)\.png$"
    readers = check_converter("imagefolder", root, tmp_path / "out", output_name="hpl-like", split="group",
                              fractions=(0.6, 0.2, 0.2), options={"label_pattern": pattern})
    groups = {s: set(r.groups.tolist()) for s, r in readers.items()}
    assert all(groups[a].isdisjoint(groups[b]) for a in groups for b in groups if a < b)  # writer-disjoint
    index = readers["train"].index
    assert index["skipped"] == {"images whose path does not match --label-pattern": 1}
    assert readers["train"].class_names == ["000", "001", "002"] and index["split"]["group_by"] == "group"
    with pytest.raises(OptionError, match="named group"):
        check_converter("imagefolder", root, tmp_path / "x", options={"label_pattern": r"\d+"})


def test_corrupt_image_is_skipped_named_or_fatal_when_strict(tmp_path):
    root = write_image_folder(tmp_path / "raw", junk=False)
    victim = min((root / "train" / "1").iterdir())
    victim.write_bytes(victim.read_bytes()[:30])  # a truncated PNG: found when decoding
    readers = check_converter("imagefolder", root, tmp_path / "out", output_name="d", val_fraction=0)
    total = sum(len(r) for r in readers.values())
    assert total == len(images_of(root)) - 1
    index = readers["train"].index
    assert index["skipped"] == {UNREADABLE: 1} and victim.name in index["skipped_examples"][0]
    assert sum(index["splits"]["train"]["class_counts"]) == len(readers["train"])  # counts follow what was kept
    with pytest.raises(FormatError, match=f"--strict: .*{victim.name}.*PNG truncated"):
        check_converter("imagefolder", root, tmp_path / "strict", output_name="d", strict=True)


def test_mixed_sizes_need_a_size(tmp_path):
    root = write_image_folder(tmp_path / "raw", junk=False, per_class=50, test_per_class=0)
    first = min((root / "train" / "0").iterdir())
    odd = first.with_name(first.stem + "b.png")  # sorts second: not among the images sampled for the size at scan
    Image.fromarray(np.full((40, 30), 255, np.uint8), "L").save(odd)
    with pytest.raises(FormatError, match=r"b.png is 30x40 pixels but this dataset is kept at its native 28x28.*"
                                          r"--size"):
        check_converter("imagefolder", root, tmp_path / "x", output_name="d", split="random", invert="no")
    resized = check_converter("imagefolder", root, tmp_path / "out", output_name="d", size=20, split="random")
    assert resized["train"].image_size == 20 and sum(len(r) for r in resized.values()) == 201
    Image.fromarray(np.full((40, 40), 255, np.uint8), "L").save(first)  # now the sample sees two sizes
    with pytest.raises(OptionError, match="images differ in size; choose an output size with --size"):
        check_converter("imagefolder", root, tmp_path / "y", output_name="d", split="random")


def test_load_image_files_stacks_decodes_in_place_and_lists_failures(tmp_path):
    """One dense stack when every image has the side (grey PNGs decode into it, others are copied in), Ragged as
    soon as one differs; unreadable files are left out and listed by position."""
    rng = np.random.default_rng(0)
    grey = [rng.integers(0, 256, (8, 8), dtype=np.uint8) for _ in range(3)]
    files = {"a.png": image_bytes(grey[0], "png", "L"), "b.bmp": image_bytes(grey[1], "bmp", "RGB"),
             "c.png": b"\x89PNG\r\n\x1a\n cut", "d.png": image_bytes(grey[2], "png", "L"),
             "e.png": image_bytes(grey[2][:5, :6], "png", "L")}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    raw = RawSource(tmp_path)
    out = load_image_files(raw, ["a.png", "b.bmp", "c.png", "d.png"], 8, "unreadable")
    assert isinstance(out, Decoded) and list(out.failed) == [2] and out.failed[2][0] == "unreadable"
    assert isinstance(out.images, np.ndarray) and out.images.shape == (3, 8, 8)
    np.testing.assert_array_equal(out.images, np.stack(grey))
    ragged = load_image_files(raw, ["a.png", "e.png", "d.png"], 8, "unreadable")
    assert isinstance(ragged, Ragged) and [ragged[i].shape for i in range(3)] == [(8, 8), (5, 6), (8, 8)]
    np.testing.assert_array_equal(ragged[2], grey[2])
    assert isinstance(load_image_files(raw, ["a.png", "d.png"], None, "unreadable"), Ragged)


def test_shards_do_not_depend_on_how_many_rows_a_load_takes(tmp_path, monkeypatch):
    """render loads a shard ``load_batch`` rows at a time: any batch size gives the same shards, failures included."""
    root = write_image_folder(tmp_path / "raw", formats=FORMATS, junk=False)
    victim = min((root / "train" / "2").iterdir())
    victim.write_bytes(victim.read_bytes()[:30])
    hashes = {}
    for batch in (None, 1, 5):
        monkeypatch.setattr(ImageFolder, "load_batch", batch)
        readers = check_converter("imagefolder", root, tmp_path / f"out{batch}", output_name="d", size=16)
        hashes[batch] = {split: r.dataset_hash for split, r in readers.items()}
        assert readers["train"].index["skipped"] == {UNREADABLE: 1}
    assert hashes[None] == hashes[1] == hashes[5]


@pytest.mark.realdata
def test_real_mnist_png_tree_equals_the_idx_test_set(real_data, tmp_path):
    root = real_data / "imagefolder" / "mnist-png-test"
    readers = check_converter("imagefolder", root, tmp_path / "out", output_name="mnist-png", shard_size=4000)
    assert list(readers) == ["test"]
    test = readers["test"]
    assert test.index["normalization"]["invert"] == "no" and test.index["split"]["method"] == "official"
    raw = real_data / "idx" / "MNIST" / "raw"
    idx = np.frombuffer(gzip.decompress((raw / "t10k-images-idx3-ubyte.gz").read_bytes()), np.uint8,
                        offset=16).reshape(-1, 28, 28)
    labels = np.frombuffer((raw / "t10k-labels-idx1-ubyte").read_bytes(), np.uint8, offset=8)
    rels = images_of(root)
    rows = np.array([int(Path(rels[s]).stem) - 60000 for s in test.source_ids])
    np.testing.assert_array_equal(test.images(), idx[rows])
    np.testing.assert_array_equal(np.array([int(test.class_names[y]) for y in test.labels]), labels[rows])
    assert len(test) == 10_000 and test.class_names == [str(d) for d in range(10)]
