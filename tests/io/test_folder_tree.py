"""Class-folder trees: layout matching with reasons, wrapper folders, folder == zip, unsafe zip entries left out."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from charbench.errors import RawDataNotFoundError
from charbench.io.folder_tree import Layout, Level, list_tree
from charbench.io.source import RawSource

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
    with RawSource(tmp_path / "wrapper") as source:
        files, misfits = list_tree(source, OMNI)
    assert [f.path for f in files] == sorted("omniglot/" + g for g in GOOD)
    greek = next(f for f in files if "Greek" in f.path)
    assert greek.fields == {
        "top": "images_background",
        "alphabet": "Greek_(old)",
        "character": "character12",
        "number": "0002",
        "drawer": "20",
    }
    assert sorted(misfits) == sorted((f"omniglot/{path}", f".png file {reason}") for path, reason in BAD.items())
    assert root.is_dir()


def test_tree_name_is_a_level_and_prefix_can_be_dropped(tmp_path):
    write_tree(tmp_path, GOOD)
    with RawSource(tmp_path / "images_background") as source:  # pointed at the set folder itself
        assert [f.fields["top"] for f in list_tree(source, OMNI)[0]] == ["images_background"] * 3
        files, misfits = list_tree(source, OMNI, prefixed=False)
    assert files == [] and len(misfits) == 3


def test_folder_and_zip_list_alike(tmp_path):
    write_tree(tmp_path / "tree", GOOD + list(BAD) + IGNORED)
    zpath = write_zip(tmp_path / "tree.zip", GOOD + list(BAD) + IGNORED + ["__MACOSX/images_background/._x.png"])
    with RawSource(tmp_path / "tree") as a, RawSource(zpath) as b:
        la, lb = list_tree(a, OMNI), list_tree(b, OMNI)
        assert la == lb
        assert b.read(lb[0][0].path) == lb[0][0].path.encode()
        assert b.junk == 3 and a.junk == 2


def test_generic_codepoint_layout(tmp_path):
    write_tree(tmp_path / "kkanji2", ["U+4E00/a1b2.png", "U+4E8C/ff00.png", "U+XYZ/0001.png", "U+4E00/notes.txt"])
    with RawSource(tmp_path / "kkanji2") as source:
        files, misfits = list_tree(source, KANJI)
    assert [(f.fields["code"], f.fields["id"]) for f in files] == [("4E00", "a1b2"), ("4E8C", "ff00")]
    assert misfits == [("U+XYZ/0001.png", ".png file not in a U+XXXX folder")]


def _link(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def test_unsafe_entries_are_left_out_and_nothing_is_written(tmp_path):
    extra = [
        zipfile.ZipInfo("../escape/0001_01.png"),
        zipfile.ZipInfo("/abs/0001_01.png"),
        _link("images_background/Latin/character01/0009_01.png"),
    ]
    zpath = write_zip(tmp_path / "images_background.zip", GOOD, extra)
    before = sorted(p for p in tmp_path.parent.rglob("*"))
    with RawSource(zpath) as source:
        assert sorted(source.unsafe) == sorted(f"images_background.zip: {i.filename}" for i in extra)
        assert [f.path for f in list_tree(source, OMNI)[0]] == sorted(GOOD)
        assert source.read(GOOD[0]) == GOOD[0].encode()
        with pytest.raises(RawDataNotFoundError):
            source.read("images_background/Latin/character01/0009_01.png")
    assert sorted(p for p in tmp_path.parent.rglob("*")) == before  # listing and reading write nothing


def test_source_record_orders_files_as_pathlib_does(tmp_path):
    """Part by part, so ``a/x`` comes before ``a-b/x`` though '-' sorts before '/' in a plain string sort."""
    from charbench.sources import MAX_LISTED, SourceHashes

    names = ["a-b/x", "a/x", "a.b/x", "a b/x", "a/x-y", "a/w/z", "ab", "a/x.y"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(name.encode())
    assert len(names) <= MAX_LISTED
    record = SourceHashes([str(tmp_path / n) for n in names], tmp_path).record()
    expected = [p.relative_to(tmp_path).as_posix() for p in sorted(tmp_path / n for n in names)]
    assert [e["name"] for e in record["files"]] == expected
