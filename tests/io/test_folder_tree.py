"""Class-folder trees: layout matching with reasons, wrapper folders, folder == zip, unsafe zip entries skipped."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from charbench.errors import ArchiveError
from charbench.io.archive import SourceTree
from charbench.io.folder_tree import Layout, Level, Listing, list_tree, open_tree

OMNI = Layout(
    levels=(
        Level(r"(?P<top>images_(?:background|evaluation))", "an images_<set> folder"),
        Level(r"(?P<alphabet>.+)", "an alphabet folder"),
        Level(r"(?P<character>character\d\d)", "a characterNN folder"),
        Level(r"(?P<number>\d{4})_(?P<drawer>\d\d)\.png", "an NNNN_DD.png name"),
    ),
    suffixes=(".png",),
)
KANJI = Layout(
    levels=(Level(r"U\+(?P<code>[0-9A-F]{4,6})", "a U+XXXX folder"), Level(r"(?P<id>\w+)\.png", "a png")),
    suffixes=(".png",),
)

GOOD = [
    "images_background/Latin/character01/0001_01.png",
    "images_background/Latin/character01/0001_02.png",
    "images_background/Greek_(old)/character12/0002_20.png",
]
BAD = {
    "images_background/Latin/notachar/0003_01.png": "not in a characterNN folder",
    "images_background/Latin/character01/picture.png": "not an NNNN_DD.png name",
    "other/Latin/character01/0004_01.png": "not in an images_<set> folder",
    "images_background/Latin/0005_01.png": "not in a characterNN folder",
}
IGNORED = [
    "images_background/README.txt",
    "images_background/.DS_Store",
    "images_background/Latin/character01/._0001_01.png",
]


def write_tree(root: Path, names: list[str]) -> Path:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(name.encode())
    return root


def write_zip(path: Path, names: list[str], extra: list[zipfile.ZipInfo] = ()) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name in names:
            zf.writestr(name, name.encode())
        for info in extra:
            zf.writestr(info, b"payload")
    return path


def test_layout_fields_and_reasons(tmp_path):
    root = write_tree(tmp_path / "wrapper" / "omniglot", GOOD + list(BAD) + IGNORED)
    with SourceTree.open(tmp_path / "wrapper") as tree:
        listing = list_tree(tree, OMNI)
    assert [f.path for f in listing.files] == sorted("omniglot/" + g for g in GOOD)
    greek = next(f for f in listing.files if "Greek" in f.path)
    assert greek.fields == {
        "top": "images_background",
        "alphabet": "Greek_(old)",
        "character": "character12",
        "number": "0002",
        "drawer": "20",
    }
    assert sum(listing.skipped.values()) == len(BAD)
    for path, reason in BAD.items():
        assert f"omniglot/{path}: .png file {reason}" in listing.examples
    assert root.is_dir()


def test_tree_name_is_a_level_and_prefix_can_be_dropped(tmp_path):
    write_tree(tmp_path, GOOD)
    with SourceTree.open(tmp_path / "images_background") as tree:  # pointed at the set folder itself
        assert [f.fields["top"] for f in list_tree(tree, OMNI).files] == ["images_background"] * 3
        dropped = list_tree(tree, OMNI, prefix="")
    assert dropped.files == [] and sum(dropped.skipped.values()) == 3


def test_folder_and_zip_list_alike(tmp_path):
    write_tree(tmp_path / "tree", GOOD + list(BAD) + IGNORED)
    zpath = write_zip(tmp_path / "tree.zip", GOOD + list(BAD) + IGNORED + ["__MACOSX/images_background/._x.png"])
    with SourceTree.open(tmp_path / "tree") as a, SourceTree.open(zpath) as b:
        la, lb = list_tree(a, OMNI), list_tree(b, OMNI)
        assert la.files == lb.files and la.skipped == lb.skipped
        assert b.read_bytes(lb.files[0].path) == lb.files[0].path.encode()
        assert b.junk_count == 3 and a.junk_count == 2


def test_generic_codepoint_layout(tmp_path):
    write_tree(tmp_path / "kkanji2", ["U+4E00/a1b2.png", "U+4E8C/ff00.png", "U+XYZ/0001.png", "U+4E00/notes.txt"])
    with SourceTree.open(tmp_path / "kkanji2") as tree:
        listing = list_tree(tree, KANJI)
    assert [(f.fields["code"], f.fields["id"]) for f in listing.files] == [("4E00", "a1b2"), ("4E8C", "ff00")]
    assert listing.skipped == {".png file not in a U+XXXX folder": 1}


def _link(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def test_unsafe_entries_skipped_or_refused(tmp_path):
    extra = [
        zipfile.ZipInfo("../escape/0001_01.png"),
        zipfile.ZipInfo("/abs/0001_01.png"),
        _link("images_background/Latin/character01/0009_01.png"),
    ]
    zpath = write_zip(tmp_path / "images_background.zip", GOOD, extra)
    before = sorted(p for p in tmp_path.parent.rglob("*"))
    tree, unsafe = open_tree(zpath, skip_unsafe=True)
    with tree:
        assert sorted(unsafe) == sorted(i.filename for i in extra)
        assert [f.path for f in list_tree(tree, OMNI).files] == sorted(GOOD)
        assert tree.read_bytes(GOOD[0]) == GOOD[0].encode()
        with pytest.raises(ArchiveError):
            tree.read_bytes("images_background/Latin/character01/0009_01.png")
    assert sorted(p for p in tmp_path.parent.rglob("*")) == before  # listing and reading write nothing
    with pytest.raises(ArchiveError, match="unsafe entry"):
        open_tree(zpath, skip_unsafe=False)


def test_safe_zip_and_folder_have_no_unsafe(tmp_path):
    zpath = write_zip(tmp_path / "a.zip", GOOD)
    assert open_tree(zpath, skip_unsafe=True)[1] == []
    tree, unsafe = open_tree(write_tree(tmp_path / "f", GOOD), skip_unsafe=True)
    assert unsafe == [] and len(tree.files()) == 3


def test_listing_merge_counts_and_caps_examples():
    a, b = Listing(), Listing()
    for i in range(15):
        a.skip(f"a{i}", "r1")
        b.skip(f"b{i}", "r2" if i % 2 else "r1")
    a.merge(b, "zip:")
    assert a.skipped == {"r1": 23, "r2": 7}
    assert len(a.examples) == 20 and a.examples[15] == "zip:b0: r1"


def test_source_record_orders_files_as_pathlib_does(tmp_path):
    """Part by part, so ``a/x`` comes before ``a-b/x`` though '-' sorts before '/' in a plain string sort."""
    from charbench.sources import MAX_LISTED, describe_sources

    names = ["a-b/x", "a/x", "a.b/x", "a b/x", "a/x-y", "a/w/z", "ab", "a/x.y"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(name.encode())
    assert len(names) <= MAX_LISTED
    record = describe_sources([str(tmp_path / n) for n in names], tmp_path)
    expected = [p.relative_to(tmp_path).as_posix() for p in sorted(tmp_path / n for n in names)]
    assert [e["name"] for e in record["files"]] == expected
