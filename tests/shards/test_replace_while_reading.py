"""A reader opened while ``prepare --force`` replaces the dataset sees the old build or the new one, never a mix.

Builds are told apart by content: every image of build k is the constant VALUES[k], every label is k, and the
class names in index.json carry k too. Builds 0 and 1 have the same shard names and counts, so only the reader's
pinning (not its count checks) can keep them apart.
"""

import multiprocessing
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import charbench.shards.reader as reader_module
import charbench.shards.writer as writer_module
from charbench.errors import DatasetExistsError, ShardFormatError
from charbench.shards.arrays import write_arrays
from charbench.shards.reader import RETRY_DELAYS, SplitReader, open_dataset
from charbench.shards.staging import StagedDataset

SIZE = 8
COUNTS = (40, 40, 30)  # shards of 10: builds 0 and 1 have the same files, build 2 has one fewer
VALUES = (50, 110, 170)
REPLACED = "was replaced since it was opened"


def build(folder: Path, k: int, *, count: int | None = None, shard_size: int = 10) -> Path:
    """Write (or replace) dataset ``folder`` with build ``k`` through StagedDataset, as prepare does."""
    n = COUNTS[k] if count is None else count
    images = np.full((n, SIZE, SIZE), VALUES[k], dtype=np.uint8)
    labels = np.full(n, k, dtype=np.int32)
    return write_arrays(folder, {"train": (images, labels)}, [f"b{k}c{j}" for j in range(3)], shard_size=shard_size)


def which_build(reader: SplitReader) -> int:
    """The build every part of ``reader`` comes from; fails the test if the parts disagree."""
    labels = np.asarray(reader.labels)
    k = int(labels[0])
    assert (labels == k).all()
    assert all(name.startswith(f"b{k}c") for name in reader.class_names)  # index.json of the same build
    assert len(reader) == len(labels) == len(reader.source_ids) == sum(reader.shard_counts)
    assert len(reader) == reader.index["splits"]["train"]["count"] == COUNTS[k]
    images = reader.images()
    assert images.shape == (COUNTS[k], SIZE, SIZE) and (images == VALUES[k]).all()
    for shard_images, shard_labels in reader.iter_shards():
        assert (shard_images == VALUES[k]).all() and (shard_labels == k).all()
    return k


def _replace_repeatedly(folder: str, commits: int) -> None:
    """Writer process: replace ``folder`` ``commits`` times with builds 0, 1, 2, 0, 1, ..."""
    writer_module._fsync = lambda path: None  # durability is not under test; more swaps per second are
    for i in range(commits):
        build(Path(folder), i % len(COUNTS))


def _read_in_child(reader: SplitReader, dataset, queue) -> None:
    """Forked child: what reading the parent's reader and ShardDataset gives here."""
    outcome = []
    for read in (lambda: int(reader.read(0, 5)[0, 0, 0]), lambda: int(dataset[0][0][0, 0, 0])):
        try:
            outcome.append(("data", read()))
        except ShardFormatError as exc:
            outcome.append(("error", str(exc)))
    queue.put(outcome)


def test_open_reader_keeps_its_build_after_replace(tmp_path):
    from charbench.data import ShardDataset

    folder = build(tmp_path / "ds", 0)
    reader = open_dataset(folder, "train")
    dataset = ShardDataset(folder, "train")
    build(folder, 2)  # other content, other shard files; the old folder is deleted
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ds.old-")]
    assert which_build(reader) == 0 and which_build(open_dataset(folder, "train")) == 2
    np.testing.assert_array_equal(reader.read(3, 17), np.full((14, SIZE, SIZE), VALUES[0], np.uint8))
    assert [int(dataset[i][0][0, 0, 0]) for i in (0, 39, -1)] == [VALUES[0]] * 3 and len(dataset) == COUNTS[0]
    reader.close()  # the old build's files are gone: re-opening by path must not pick up the new ones
    with pytest.raises(ShardFormatError, match=REPLACED):
        reader.read(0, 1)
    with open_dataset(folder, "train") as fresh:
        assert which_build(fresh) == 2


def test_forked_child_refuses_replaced_dataset(tmp_path):
    from charbench.data import ShardDataset

    folder = build(tmp_path / "ds", 0)
    reader = open_dataset(folder, "train")
    dataset = ShardDataset(folder, "train")
    ctx = multiprocessing.get_context("fork")

    def child_outcome():
        queue = ctx.Queue()
        child = ctx.Process(target=_read_in_child, args=(reader, dataset, queue))
        child.start()
        outcome = queue.get(timeout=60)
        child.join()
        return outcome

    assert child_outcome() == [("data", VALUES[0])] * 2  # not replaced: the child reads the build as usual
    build(folder, 1)  # same shard names and counts, other content
    outcome = child_outcome()
    assert [kind for kind, _ in outcome] == ["error", "error"], outcome
    assert all(REPLACED in message and str(folder) in message for _, message in outcome)
    assert which_build(reader) == 0 and int(dataset[0][0][0, 0, 0]) == VALUES[0]  # the parent is undisturbed


def test_readers_during_repeated_replaces_see_one_build(tmp_path, monkeypatch):
    """One process replaces the dataset over and over; every reader opened meanwhile is entirely one build."""
    folder = build(tmp_path / "ds", 0)
    writer = multiprocessing.get_context("spawn").Process(target=_replace_repeatedly, args=(str(folder), 60))
    writer.start()
    opened, refused, refused_reads, seen, kept = 0, 0, 0, set(), []
    try:
        while writer.is_alive() or opened == 0:
            # every other reader opens its shards per read (the path of splits with very many shards)
            lazy = (opened + refused) % 2 == 1
            monkeypatch.setattr(reader_module, "MAX_PINNED_SHARDS", 0 if lazy else 256)
            try:
                reader = open_dataset(folder, "train")
            except ShardFormatError as exc:
                assert "being replaced" in str(exc), exc
                refused += 1
                continue
            opened += 1
            try:
                k = which_build(reader)
            except ShardFormatError as exc:  # replaced between the open and the read: refused, not mixed
                assert lazy and REPLACED in str(exc), exc
                refused_reads += 1
                continue
            seen.add(k)
            kept.append((reader, k))
            if len(kept) > 8:
                old, k = kept.pop(0)
                try:  # read again, possibly after several replaces: the same build, or (per-read opening) refused
                    assert which_build(old) == k
                except ShardFormatError as exc:
                    assert old._files is None and REPLACED in str(exc), exc
                old.close()
    finally:
        writer.join(timeout=60)
    assert writer.exitcode == 0
    print(f"{opened} opens succeeded ({refused_reads} later refused a read), {refused} refused; builds {sorted(seen)}")
    assert opened > 0 and seen <= {0, 1, 2}
    assert which_build(open_dataset(folder, "train")) == (60 - 1) % len(COUNTS)


def test_missing_dataset_fails_at_once(tmp_path, monkeypatch):
    sleeps = []
    monkeypatch.setattr(reader_module.time, "sleep", sleeps.append)
    with pytest.raises(ShardFormatError, match="no index.json in .*not a prepared charbench dataset"):
        open_dataset(tmp_path / "nothing", "train")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ShardFormatError, match="no index.json in"):
        open_dataset(tmp_path / "empty", "train")
    assert sleeps == []  # no retrying when no swap is under way


def test_reader_waits_for_the_gap_of_a_swap(tmp_path, monkeypatch):
    """Opened between the two renames of a replace, the reader waits and gets the new build."""
    folder = build(tmp_path / "ds", 0)
    new = build(tmp_path / "staged", 1)
    old = tmp_path / ".ds.old-4242"
    os.replace(folder, old)  # the first rename of a swap

    def sleep(seconds):  # the swap finishes while the reader waits
        if not folder.exists():
            os.replace(new, folder)
            shutil.rmtree(old)

    monkeypatch.setattr(reader_module.time, "sleep", sleep)
    assert which_build(open_dataset(folder, "train")) == 1


def test_interrupted_swap_is_reported_and_undone_by_the_next_prepare(tmp_path, monkeypatch):
    folder = build(tmp_path / "ds", 0)
    cut_short = tmp_path / ".ds.old-1111"  # an earlier removal of an old build, cut short: never put back
    shutil.copytree(folder, cut_short)
    min(cut_short.glob("train-*.h5")).unlink()
    os.replace(folder, tmp_path / ".ds.old-4242")  # a prepare killed between its two renames
    sleeps = []
    monkeypatch.setattr(reader_module.time, "sleep", sleeps.append)
    with pytest.raises(ShardFormatError, match=r"changed while being opened \(being replaced\?\).*\.ds\.old-"):
        open_dataset(folder, "train")
    assert sleeps == list(RETRY_DELAYS)
    with pytest.raises(DatasetExistsError), StagedDataset(folder):  # puts the previous dataset back first
        pass
    assert which_build(open_dataset(folder, "train")) == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ds.old-")]


def test_split_of_many_shards_is_read_lazily_and_detects_a_replace(tmp_path, monkeypatch):
    monkeypatch.setattr(writer_module, "_fsync", lambda path: None)
    count = reader_module.MAX_PINNED_SHARDS + 1
    folder = build(tmp_path / "ds", 0, count=count, shard_size=1)
    fds = Path("/proc/self/fd")
    before = len(os.listdir(fds)) if fds.is_dir() else None
    reader = open_dataset(folder, "train")
    assert len(reader.shard_paths) == count and len(reader._files) <= reader_module.MAX_OPEN_UNPINNED
    if before is not None:  # only the last few shards read stay open
        assert len(os.listdir(fds)) <= before + reader_module.MAX_OPEN_UNPINNED
    images = reader.images()
    assert images.shape == (count, SIZE, SIZE) and (images == VALUES[0]).all() and (reader.labels == 0).all()
    with StagedDataset(folder, force=True) as stage:  # a replace by a copy: same files, another build
        shutil.copytree(folder, stage.tmp, dirs_exist_ok=True)
        stage.commit()
    with pytest.raises(ShardFormatError, match=REPLACED):
        reader.read(0, 1)
    with pytest.raises(ShardFormatError, match=REPLACED):
        next(reader.iter_shards())
    assert (open_dataset(folder, "train").read(count - 2) == VALUES[0]).all()
