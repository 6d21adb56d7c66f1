"""Safe archives: unsafe zip/tar entries refused (or, when asked, left out and listed), nothing written outside dest."""

from __future__ import annotations

import io
import os
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest

from charbench.errors import ArchiveError, RawDataNotFoundError
from charbench.io.archive import open_archive, safe_extract

FILES = {"set/a/0001_01.png": b"png-a", "set/b/0002_02.png": b"png-b", "set/readme.txt": b"hello"}
JUNK = {"__MACOSX/set/._0001_01.png": b"x", "set/.DS_Store": b"x", "set/a/._0001_01.png": b"x", "set/Thumbs.db": b"x"}


def make_zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name), data)
    return path


def make_tar(path: Path, entries: dict[str, bytes], mode: str = "w") -> Path:
    with tarfile.open(path, mode) as tf:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def tar_with(path: Path, info: tarfile.TarInfo) -> Path:
    with tarfile.open(path, "w") as tf:
        tf.addfile(info)
    return path


@pytest.fixture(params=["zip", "tar", "tar.gz"])
def good_archive(request, tmp_path) -> Path:
    entries = {**FILES, **JUNK}
    if request.param == "zip":
        return make_zip(tmp_path / "set.zip", entries)
    return make_tar(tmp_path / f"set.{request.param}", entries, "w:gz" if request.param == "tar.gz" else "w")


def test_members_and_read(good_archive):
    with open_archive(good_archive) as archive:
        assert set(archive.members()) == set(FILES) | set(JUNK)
        assert archive.read("set/readme.txt") == b"hello"
        with pytest.raises(ArchiveError, match="no regular-file entry 'nope'"):
            archive.read("nope")


@pytest.mark.parametrize("name", ["../evil.txt", "set/../../evil.txt", "/abs/evil.txt", "C:/evil.txt", "..\\evil"])
def test_zip_with_escaping_names_is_refused(tmp_path, name):
    path = make_zip(tmp_path / "evil.zip", {"ok.txt": b"ok", name: b"pwned"})
    with pytest.raises(ArchiveError) as info:
        open_archive(path)
    assert str(path) in str(info.value) and repr(name) in str(info.value)


@pytest.mark.parametrize("name", ["../evil.txt", "/abs/evil.txt", "a/../../evil.txt"])
def test_tar_with_escaping_names_is_refused(tmp_path, name):
    path = make_tar(tmp_path / "evil.tar", {"ok.txt": b"ok", name: b"pwned"})
    with pytest.raises(ArchiveError, match="unsafe entry"):
        open_archive(path)


def test_zip_symlink_entry_is_refused(tmp_path):
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("set/link")
        info.create_system = 3
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(ArchiveError, match="'set/link'.*symlink"):
        open_archive(path)


@pytest.mark.parametrize(
    ("kind", "message"), [(tarfile.SYMTYPE, "symlink"), (tarfile.LNKTYPE, "hardlink"), (tarfile.CHRTYPE, "device")]
)
def test_tar_links_and_devices_are_refused(tmp_path, kind, message):
    info = tarfile.TarInfo("set/special")
    info.type = kind
    info.linkname = "/etc/passwd"
    path = tar_with(tmp_path / "special.tar", info)
    with pytest.raises(ArchiveError, match=f"'set/special'.*{message}"):
        open_archive(path)


def _zip_declaring(path: Path, declared: int) -> Path:
    """A zip whose central directory claims ``declared`` uncompressed bytes for a 5-byte entry."""
    make_zip(path, {"big.bin": b"small"})
    data = bytearray(path.read_bytes())
    central = data.index(b"PK\x01\x02")
    data[central + 24 : central + 28] = struct.pack("<I", declared)  # uncompressed size field
    path.write_bytes(bytes(data))
    return path


def test_zip_with_huge_declared_size_is_refused_before_reading(tmp_path):
    path = _zip_declaring(tmp_path / "bomb.zip", 0xF0000000)
    with open_archive(path) as archive:
        assert archive.size("big.bin") == 0xF0000000
        with pytest.raises(ArchiveError, match="'big.bin'.*declares 4026531840 bytes"):
            archive.read("big.bin")
    dest = tmp_path / "out"
    with pytest.raises(ArchiveError, match="declares"):
        safe_extract(path, dest)
    assert list(dest.iterdir()) == []


def test_tar_header_claiming_a_terabyte_is_refused(tmp_path):
    info = tarfile.TarInfo("big.bin")
    info.size = 1 << 40
    path = tmp_path / "bomb.tar"
    path.write_bytes(info.tobuf(format=tarfile.GNU_FORMAT) + b"\0" * 1024)
    with pytest.raises(ArchiveError, match="bomb.tar"):
        open_archive(path)
    with pytest.raises(ArchiveError):
        safe_extract(path, tmp_path / "out")
    assert not any((tmp_path / "out").iterdir())


def test_tar_member_over_the_cap_is_refused_before_reading(tmp_path):
    path = make_tar(tmp_path / "big.tar.gz", {"big.bin": bytes(1 << 20)}, "w:gz")
    with (
        open_archive(path, max_member_size=1 << 16) as archive,
        pytest.raises(ArchiveError, match="'big.bin'.*declares 1048576 bytes"),
    ):
        archive.read("big.bin")
    with pytest.raises(ArchiveError, match="declares"):
        safe_extract(path, tmp_path / "out", max_member_size=1 << 16)
    assert not any((tmp_path / "out").iterdir())


def test_read_cap_is_per_call(tmp_path):
    path = make_zip(tmp_path / "a.zip", {"f.bin": b"x" * 100})
    with open_archive(path, max_member_size=10) as archive:
        with pytest.raises(ArchiveError, match="cap"):
            archive.read("f.bin")
        assert archive.read("f.bin", max_size=100) == b"x" * 100


def test_safe_extract_writes_only_under_dest(good_archive, tmp_path):
    dest = tmp_path / "out"
    written = safe_extract(good_archive, dest)
    assert all(p.is_relative_to(dest.resolve()) for p in written)
    assert (dest / "set/readme.txt").read_bytes() == b"hello"
    assert len(written) == len(FILES) + len(JUNK)


def test_safe_extract_of_an_evil_archive_writes_nothing_anywhere(tmp_path):
    path = make_tar(tmp_path / "evil.tar", {"fine.txt": b"ok", "../escaped.txt": b"pwned"})
    dest = tmp_path / "deep" / "out"
    with pytest.raises(ArchiveError):
        safe_extract(path, dest)
    assert not (tmp_path / "deep" / "escaped.txt").exists() and not (dest / "fine.txt").exists()


def test_safe_extract_does_not_follow_a_symlink_already_in_dest(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "out"
    dest.mkdir()
    os.symlink(outside, dest / "set")
    with pytest.raises(ArchiveError, match="outside"):
        safe_extract(make_zip(tmp_path / "a.zip", {"set/file.txt": b"pwned"}), dest)
    assert list(outside.iterdir()) == []


def test_corrupt_member_data_is_an_archive_error(tmp_path):
    path = make_zip(tmp_path / "crc.zip", {"f.txt": b"hello world"})
    path.write_bytes(path.read_bytes().replace(b"hello world", b"HELLO world"))
    with open_archive(path) as archive, pytest.raises(ArchiveError, match="cannot read entry 'f.txt'.*crc.zip"):
        archive.read("f.txt")


def test_corrupt_and_foreign_files_are_archive_errors(tmp_path):
    (tmp_path / "fake.zip").write_bytes(b"PK\x03\x04 definitely not a zip")
    with pytest.raises(ArchiveError, match="fake.zip"):
        open_archive(tmp_path / "fake.zip")
    with pytest.raises(RawDataNotFoundError):
        open_archive(tmp_path / "missing.zip")


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_skip_unsafe_leaves_hostile_entries_out_and_lists_them(tmp_path, kind):
    entries = {"ok.txt": b"ok", "../evil.txt": b"pwned", "/abs.txt": b"x"}
    path = (make_zip if kind == "zip" else make_tar)(tmp_path / f"mixed.{kind}", entries)
    with pytest.raises(ArchiveError):
        open_archive(path)
    with open_archive(path, skip_unsafe=True) as archive:
        assert archive.members() == ["ok.txt"] and archive.read("ok.txt") == b"ok"
        assert sorted(archive.unsafe) == ["../evil.txt", "/abs.txt"]


def test_a_pickled_zip_reads_in_another_process_without_listing_the_archive_again(tmp_path, monkeypatch):
    import pickle

    path = tmp_path / "kinds.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("stored.txt", b"stored" * 10, compress_type=zipfile.ZIP_STORED)
        zf.writestr("deflated.txt", b"deflated" * 10, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("bzip2.txt", b"bzip2" * 10, compress_type=zipfile.ZIP_BZIP2)
    with open_archive(path) as archive:
        archive.read("stored.txt")  # an open file does not travel: the copy reopens it
        copy = pickle.loads(pickle.dumps(archive))
    with monkeypatch.context() as m:
        m.setattr(zipfile, "ZipFile", None)  # stored and deflated entries need no zipfile listing
        assert copy.read("stored.txt") == b"stored" * 10 and copy.read("deflated.txt") == b"deflated" * 10
    assert copy.read("bzip2.txt") == b"bzip2" * 10  # zipfile's own path, opened on demand
    copy.close()


def test_a_pickled_zip_refuses_an_archive_replaced_since_it_was_listed(tmp_path):
    import pickle

    path = make_zip(tmp_path / "z.zip", {"a.txt": b"aaaa", "b.txt": b"bbbb"})
    with open_archive(path) as archive:
        copy = pickle.loads(pickle.dumps(archive))
    make_zip(path, {"b.txt": b"bbbb", "a.txt": b"aaaa"})  # same entries, other offsets
    with pytest.raises(ArchiveError, match="cannot read entry 'a.txt'.*local header"):
        copy.read("a.txt")
