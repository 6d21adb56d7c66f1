"""index.json's source record: files the shards read whole are hashed by them, the rest here, with one result."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

import charbench.sources
from charbench.errors import ShardFormatError
from charbench.prepare import PrepareConfig, prepare
from charbench.sources import MAX_LISTED, SourceHashes
from charbench.synth.imagefolder import write_image_folder


def _files(root):
    return sorted(str(p) for p in root.rglob("*") if p.is_file())


def test_deferred_files_are_hashed_when_no_shard_read_them(tmp_path):
    for i in range(40):
        (tmp_path / f"{i:02d}.png").write_bytes(bytes([i]) * (i + 1))
    (tmp_path / "all.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    files = _files(tmp_path)
    hashes = SourceHashes(files, tmp_path, defer=True)
    assert hashes.plan_record()["pending"] == 40  # the zip is hashed at once
    expected = SourceHashes(files, tmp_path).record()
    assert hashes.record() == expected and expected["count"] == 41 and "manifest_sha256" in expected
    assert SourceHashes(files, tmp_path).plan_record() == expected  # nothing deferred: the plan has the final record
    few = files[:MAX_LISTED]  # idx arrays, label files: hashed at once
    assert SourceHashes(few, tmp_path, defer=True).plan_record() == SourceHashes(few, tmp_path).record()


def test_the_plan_sees_an_edited_file_left_to_the_shards(tmp_path):
    """A resumed run starts over when a raw file changed: its size or modification time is in the plan."""
    for i in range(MAX_LISTED + 1):
        (tmp_path / f"{i:02d}.png").write_bytes(b"a")
    files = _files(tmp_path)
    before = SourceHashes(files, tmp_path, defer=True).plan_record()
    assert SourceHashes(files, tmp_path, defer=True).plan_record() == before
    os.utime(files[0], ns=(1, 1))
    assert SourceHashes(files, tmp_path, defer=True).plan_record() != before


def test_digests_of_the_shards_are_taken_and_a_file_read_twice_differently_fails(tmp_path):
    for i in range(MAX_LISTED + 1):
        (tmp_path / f"{i:02d}.png").write_bytes(b"%d" % i)
    files = _files(tmp_path)
    hashes = SourceHashes(files, tmp_path, defer=True)
    hashes.add({files[0]: (1, hashlib.sha256(b"0").hexdigest())})
    hashes.add({files[0]: (1, hashlib.sha256(b"0").hexdigest())})  # a second shard reading the same bytes
    assert hashes.pending == MAX_LISTED and hashes.record() == SourceHashes(files, tmp_path).record()
    with pytest.raises(ShardFormatError, match="00.png changed while this dataset was being prepared"):
        hashes.add({files[0]: (1, hashlib.sha256(b"other").hexdigest())})


@pytest.mark.parametrize("workers", [1, 2])
def test_prepare_reads_each_image_file_once(tmp_path, monkeypatch, workers):
    """The shards' digests make the record: no image is read again for it, and it equals hashing every file."""
    root = write_image_folder(tmp_path / "raw", junk=False, per_class=10)  # more files than MAX_LISTED
    images = [p for p in _files(root) if p.endswith(".png")]
    real_read = charbench.sources.read_file

    def read_file(path):
        assert path not in images, f"{path} read again for the source record"
        return real_read(path)

    monkeypatch.setattr(charbench.sources, "read_file", read_file)
    out = prepare(PrepareConfig(name="imagefolder", source=root, out=tmp_path / "out", output_name="d",
                                progress=False, workers=workers))
    index = json.loads((out / "index.json").read_text())
    monkeypatch.undo()
    assert index["sources"] == SourceHashes(images, root).record()
