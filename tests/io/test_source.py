"""RawSource: one listing of a folder, an archive or a folder holding archives; junk, unsafe entries, lazy reads."""

from __future__ import annotations

import pickle

import pytest

from charbench.errors import FormatError, RawDataNotFoundError
from charbench.io.source import RawSource, is_junk, split_of_folder
from tests.io.test_archive import FILES, JUNK, make_tar, make_zip


def write_tree(root, entries: dict[str, bytes]):
    for name, data in entries.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


@pytest.mark.parametrize("kind", ["folder", "zip", "tar.gz"])
def test_every_kind_of_source_lists_the_same_files_and_counts_junk(tmp_path, kind):
    entries = {**FILES, **JUNK}
    if kind == "folder":
        path = write_tree(tmp_path / "set", entries)
    elif kind == "zip":
        path = make_zip(tmp_path / "set.zip", entries)
    else:
        path = make_tar(tmp_path / "set.tar.gz", entries, "w:gz")
    with RawSource(path) as source:
        assert source.files == sorted(FILES) and source.junk == len(JUNK)
        assert source.find("*.png") == ["set/a/0001_01.png", "set/b/0002_02.png"]
        assert source.read("set/b/0002_02.png") == b"png-b" and source.head("set/readme.txt", 2)[:2] == b"he"
        assert source.root_name("set/readme.txt") == "set"


def test_archives_inside_a_folder_are_part_of_its_listing_and_the_folder_wins(tmp_path):
    root = write_tree(tmp_path / "raw", {"train.csv": b"folder copy", "notes/a.txt": b"a"})
    make_zip(root / "pages.zip", {"train.csv": b"zip copy", "img/p1.jpg": b"jpeg"})
    make_tar(root / "more.tar", {"img/p2.jpg": b"jpeg2"})
    with RawSource(root) as source:
        assert source.files == ["img/p1.jpg", "img/p2.jpg", "notes/a.txt", "train.csv"]
        assert source.read("train.csv") == b"folder copy"  # extracted beside its archive: the extracted file
        assert source.describe("img/p1.jpg") == f"{root / 'pages.zip'}:img/p1.jpg"
        assert source.file_paths(["img/p1.jpg", "img/p2.jpg", "notes/a.txt"]) == [
            str(root / "pages.zip"), str(root / "more.tar"), str(root / "notes/a.txt")]
        assert source.root_name("img/p1.jpg") == "pages"


def test_unsafe_entries_are_left_out_and_listed(tmp_path):
    path = make_zip(tmp_path / "evil.zip", {"ok.txt": b"ok", "../evil.txt": b"x", "a/../../b.txt": b"x"})
    with RawSource(path) as source:
        assert source.files == ["ok.txt"]
        assert source.unsafe == ["evil.zip: ../evil.txt", "evil.zip: a/../../b.txt"]


def test_find_named_prefers_a_folder_then_the_shallowest_and_refuses_a_guess(tmp_path):
    root = write_tree(tmp_path / "root", {"MNIST/raw/t.gz": b"m", "FashionMNIST/raw/t.gz": b"f", "x/y/t": b"deep"})
    with RawSource(root) as source:
        assert source.find_named(["t", "t.gz"], prefer="MNIST") == "MNIST/raw/t.gz"
        with pytest.raises(FormatError, match="several candidates for t in"):
            source.find_named(["t", "t.gz"])
        assert source.find_named(["absent"]) is None
    write_tree(tmp_path / "twins", {"t": b"plain", "t.gz": b"gz"})
    with RawSource(tmp_path / "twins") as source:  # one file in two spellings is not ambiguous
        assert source.find_named(["t", "t.gz"]) == "t"


def test_local_path_extracts_only_archive_members(tmp_path):
    root = write_tree(tmp_path / "raw", {"loose.bin": b"loose"})
    make_zip(root / "gzip.zip", {"gzip/member.bin": b"member"})
    with RawSource(root) as source:
        assert source.local_path("loose.bin", tmp_path / "work") == root / "loose.bin"
        extracted = source.local_path("gzip/member.bin", tmp_path / "work")
        assert extracted.parent == tmp_path / "work" and extracted.read_bytes() == b"member"


def test_pickled_copies_and_subsets_read_in_another_process_and_digests_are_remembered(tmp_path):
    root = write_tree(tmp_path / "raw", {"a.txt": b"a", "b.txt": b"bb"})
    make_zip(root / "z.zip", {"c.txt": b"ccc"})
    source = RawSource(root, remember_digests=True)
    source.read("a.txt")
    source.read("c.txt")
    assert list(source.digests) == [str(root / "a.txt")]  # archive members are hashed as their archive
    copy = pickle.loads(pickle.dumps(source))
    assert copy.read("c.txt") == b"ccc" and copy.digests is None
    part = pickle.loads(pickle.dumps(source.subset(["b.txt"])))
    assert part.files == ["b.txt"] and part.read("b.txt") == b"bb"
    with pytest.raises(RawDataNotFoundError, match="a.txt is not a file of"):
        part.read("a.txt")
    source.close()


def test_a_single_plain_file_and_missing_paths(tmp_path):
    (tmp_path / "notes.txt").write_text("plain")
    with RawSource(tmp_path / "notes.txt") as source:
        assert source.files == ["notes.txt"] and source.read("notes.txt") == b"plain"
    with pytest.raises(RawDataNotFoundError, match="not found"):
        RawSource(tmp_path / "absent")


@pytest.mark.parametrize(
    ("path", "junk"),
    [
        (".DS_Store", True), ("a/b/.DS_Store", True), ("__MACOSX/a/x.png", True), ("a/._x.tiff", True),
        ("Thumbs.db", True), ("a/x.png", False), ("a/.hidden_but_real.txt", False), ("MACOSX/x.png", False),
        ("a\\__MACOSX\\x.png", True), ("a/__MACOSX_notes/x.png", False), ("a/._dir/", True), ("", False),
    ],
)  # fmt: skip
def test_is_junk(path, junk):
    assert is_junk(path) is junk


@pytest.mark.parametrize(
    ("folder", "code"),
    [("Train", 0), ("data/training", 0), ("test_data", 2), ("x/VALID", 1), ("validation/0", 1), ("train_test", 2),
     ("test/usr_1", 2), ("", None), ("contest", None), ("usr_1", None)],
)  # fmt: skip
def test_split_of_folder(folder, code):
    assert split_of_folder(folder) == code


@pytest.mark.realdata
def test_real_omniglot_strokes_zip_has_junk_that_is_skipped(real_data):
    with RawSource(real_data / "omniglot" / "strokes_background_small1.zip") as source:
        assert source.junk > 0
        assert len(source.find("*.txt")) == 2720
        assert not any(is_junk(f) for f in source.files)
