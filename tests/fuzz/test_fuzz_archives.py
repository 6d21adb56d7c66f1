"""Fuzzing archives and folder trees: damaged or hostile zip/tar files end in an ArchiveError naming the archive.

Inputs: random bytes under archive names, every archive kind charbench reads (zip stored / deflate / bzip2 / lzma,
tar plain / gz / bz2 / xz) damaged by truncation, byte flips and splices, and sound archives whose entry names are
hostile (absolute, ``..``, backslashes, drive letters, duplicates). Opening, listing, reading every member and
extracting either work or raise a CharbenchError whose message names the archive; extraction never writes outside
its destination.
"""

from __future__ import annotations

import io
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from charbench.errors import ArchiveError
from charbench.io.archive import open_archive, safe_extract
from charbench.io.source import RawSource
from tests.fuzzing import mutate, outcome

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ZIP_METHODS = {
    "zip": zipfile.ZIP_STORED,
    "zip-deflate": zipfile.ZIP_DEFLATED,
    "zip-bz2": zipfile.ZIP_BZIP2,
    "zip-lzma": zipfile.ZIP_LZMA,
}
TAR_MODES = {"tar": "w", "tar.gz": "w:gz", "tar.bz2": "w:bz2", "tar.xz": "w:xz"}
KINDS = sorted(ZIP_METHODS) + sorted(TAR_MODES)
SUFFIX = {**{k: ".zip" for k in ZIP_METHODS}, **{k: "." + k for k in TAR_MODES}}
# Compressible but not trivially so: a flipped byte lands in real compressed data, not in a run-length of zeros.
PAYLOAD = bytes((i * 7919) % 251 for i in range(20_000))
ENTRIES = {"set/a/0001_01.png": PAYLOAD, "set/b/0002_02.png": b"png-b" * 40, "set/readme.txt": b"hello"}


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz-archives")


def build(kind: str, entries: dict[str, bytes]) -> bytes:
    """An archive of ``kind`` holding ``entries`` as regular files, names written exactly as given."""
    buf = io.BytesIO()
    if kind in ZIP_METHODS:
        with zipfile.ZipFile(buf, "w", compression=ZIP_METHODS[kind]) as zf:
            for name, data in entries.items():
                zf.writestr(zipfile.ZipInfo(name), data, compress_type=ZIP_METHODS[kind])
    else:
        with tarfile.open(fileobj=buf, mode=TAR_MODES[kind]) as tf:
            for name, data in entries.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def read_everything(path: Path) -> dict[str, bytes] | None:
    """Every member of the archive through open_archive, or None once one step raised a CharbenchError."""

    def run(p: Path) -> dict[str, bytes]:
        with open_archive(p) as archive:
            members = archive.members()
            assert all(isinstance(m, str) and m and not m.startswith("/") for m in members)
            out = {}
            for member in members:
                data = archive.read(member)
                # never more than declared (a lying size may give less: the CRC covers what is there)
                assert isinstance(data, bytes) and len(data) <= archive.size(member)
                out[member] = data
            return out

    return outcome(run, path)


def read_source(path: Path) -> None:
    """Every listed file of the archive as a RawSource (unsafe entries left out) can be read, or a CharbenchError."""

    def run(p: Path) -> None:
        with RawSource(p) as source:
            for rel in source.files:
                assert isinstance(source.read(rel), bytes)

    outcome(run, path)


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def check_extract(path: Path, sandbox: Path) -> dict[str, bytes] | None:
    """safe_extract into ``sandbox/dest``; whatever happens, nothing else in the sandbox changes."""
    shutil.rmtree(sandbox, ignore_errors=True)
    sandbox.mkdir(parents=True)
    (sandbox / "outside.txt").write_bytes(b"canary")
    before = files_under(sandbox)
    dest = sandbox / "dest"
    written = outcome(lambda p: safe_extract(p, dest), path)
    after = files_under(sandbox)
    assert {k: v for k, v in after.items() if not k.startswith("dest/")} == before
    if written is None:
        return None
    resolved = dest.resolve()
    assert all(Path(w).resolve().is_relative_to(resolved) for w in written)
    return {k.removeprefix("dest/"): v for k, v in after.items() if k.startswith("dest/")}


def check_all(path: Path, sandbox: Path) -> None:
    content = read_everything(path)
    read_source(path)
    extracted = check_extract(path, sandbox)
    if content is not None and extracted is not None:
        assert extracted == content


@FUZZ
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".zip", ".tar", ".tar.gz", ".tgz", ".tar.xz", ".bin"]))
@example(data=b"PK\x05\x06" + bytes(18), suffix=".zip")  # an empty zip: no members
@example(data=b"\x1f\x8b\x08\x00" + bytes(20), suffix=".tar.gz")
@example(data=b"\xfd7zXZ\x00" + bytes(30), suffix=".tar.xz")
def test_random_bytes(work, data, suffix):
    path = work / f"random{suffix}"
    path.write_bytes(data)
    check_all(path, work / "sandbox-random")




def at_byte(data: bytes, marker: bytes, offset: int, value: int) -> bytes:
    buf = bytearray(data)
    buf[buf.find(marker) + offset] = value
    return bytes(buf)


def flipped(data: bytes, pos: int) -> bytes:
    buf = bytearray(data)
    buf[pos] ^= 0xFF
    return bytes(buf)


_ZIP = build("zip", ENTRIES)
_ZIP_LZMA = build("zip-lzma", ENTRIES)


@FUZZ
@given(
    kind=st.sampled_from(KINDS),
    ops=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 2**16), st.integers(0, 2**16)), min_size=1, max_size=3),
)
@example(kind="zip", ops=[])  # the sound archive itself
@example(kind="tar.gz", ops=[])
def test_mutated_archives(work, kind, ops):
    path = work / f"mutated{SUFFIX[kind]}"
    path.write_bytes(mutate(build(kind, ENTRIES), ops, span=64, block=32))
    check_all(path, work / "sandbox-mutated")
    if not ops:
        assert read_everything(path) == ENTRIES


def sweep_positions(n: int) -> list[int]:
    """Every position in the first 128 and last 96 bytes (headers, central directory, trailers), every 97th between."""
    return sorted({*range(min(n, 128)), *range(max(0, n - 96), n), *range(128, n, 97)})


@pytest.mark.parametrize("kind", KINDS)
def test_every_flip_and_truncation(tmp_path, kind):
    """One byte flipped, or the file cut, at (nearly) every position: never anything but a CharbenchError.

    The member is larger than one read buffer (8 KiB), so damage also surfaces after the archive was opened.
    """
    data = build(kind, {"set/a/0001_01.png": PAYLOAD[:12_000], "set/readme.txt": b"hello"})
    path = tmp_path / f"swept{SUFFIX[kind]}"
    for pos in sweep_positions(len(data)):
        for damaged in (flipped(data, pos), data[:pos]):
            path.write_bytes(damaged)
            read_everything(path)


@pytest.mark.parametrize(
    "data",
    [
        at_byte(_ZIP, b"PK\x01\x02", 6, 99),  # "zip file version 9.9": NotImplementedError in ZipFile()
        at_byte(_ZIP, b"PK\x01\x02", 10, 99),  # unknown compression method: NotImplementedError on read
        at_byte(_ZIP, b"PK\x01\x02", 8, 0x01),  # encrypted flag: RuntimeError on read
        flipped(_ZIP_LZMA, _ZIP_LZMA.find(b"PK\x03\x04") + 30 + 17 + 40),  # corrupt lzma data: LZMAError on read
    ],
    ids=["zip-version", "zip-method", "zip-encrypted", "zip-lzma-data"],
)
def test_known_hostile_zips(tmp_path, data):
    path = tmp_path / "hostile.zip"
    path.write_bytes(data)
    check_all(path, tmp_path / "sandbox")


def test_local_header_name_that_is_not_utf8_is_an_archive_error(tmp_path):
    """The local header's utf-8 flag set over a name that is not utf-8: zipfile raises UnicodeDecodeError on open."""
    buf = bytearray(build("zip", {"ab.bin": b"x" * 10}))
    local = buf.find(b"PK\x03\x04")
    buf[local + 7] |= 0x08  # general purpose flag bit 11: file name is utf-8
    buf[local + 30] = 0xE2  # first byte of the name: a utf-8 lead byte without its continuation
    path = tmp_path / "badname.zip"
    path.write_bytes(bytes(buf))
    with pytest.raises(ArchiveError) as err, open_archive(path) as archive:
        archive.read("ab.bin")
    assert str(path) in str(err.value)


# Names that are absolute, climb, hide '..' behind backslashes or drive letters, or collide after normalisation.
name_part = st.sampled_from(["a", "b", "..", ".", "", "C:", "c:\\", "\\", "x\\..", "..\\..", "~", "set", " "])
hostile_name = st.lists(name_part, min_size=1, max_size=5).map("/".join)


hostile_entries = st.tuples(
    st.sampled_from(["zip", "tar", "tar.gz"]),
    st.lists(hostile_name, min_size=1, max_size=5),
    st.sampled_from(["", "/", "//", "../", "./"]),
)


def hostile_archive(work: Path, kind: str, names: list[str], lead: str) -> Path:
    path = work / f"names{SUFFIX[kind]}"
    path.write_bytes(build(kind, {lead + name: name.encode() for name in names}))
    return path


@FUZZ
@given(case=hostile_entries)
@example(case=("zip", ["a", "a/b"], ""))  # a file where a folder must go
@example(case=("tar", ["a/../../x"], ""))
@example(case=("zip", ["C:/x"], ""))
def test_hostile_names_never_escape(work, case):
    """open_archive, RawSource and safe_extract refuse or contain every hostile name."""
    check_all(hostile_archive(work, *case), work / "sandbox-names")


@FUZZ
@given(case=hostile_entries)
@example(case=("zip", [""], ""))  # an empty entry name: skipped, not an IndexError from ZipInfo.is_dir()
@example(case=("zip", ["../x", "a/b"], ""))
@example(case=("zip", ["C:"], "./"))  # listed as "C:", which read_bytes then refuses
def test_hostile_names_are_skipped_by_the_raw_source(work, case):
    """RawSource leaves hostile archive entries out (and lists them) instead of refusing the archive."""
    path = hostile_archive(work, *case)
    source = outcome(RawSource, path)
    if source is not None:
        with source:
            assert all(".." not in f.split("/") and not f.startswith("/") for f in source.files)
            for rel in source.files:  # every listed file can be read
                assert isinstance(source.read(rel), bytes)
        assert all(isinstance(u, str) for u in source.unsafe)
