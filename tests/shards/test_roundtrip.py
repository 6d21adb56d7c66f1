"""Writer and reader share only schema.py: a round trip covers every field; plain h5py reads it too."""

import json

import h5py
import numpy as np
import pytest

from charbench.errors import ShardFormatError
from charbench.shards.content import content_sha256
from charbench.shards.reader import open_dataset
from charbench.shards.schema import ARRAYS, CLASS_CODEPOINT, CLASS_NAME, SHARD_ATTRS, shard_attrs
from charbench.shards.writer import write_shard


def test_every_field_round_trips_with_its_values(tmp_path):
    """Each array, the class table and every attribute come back from the file exactly as written."""
    rng = np.random.default_rng(7)
    n = 37
    arrays = {
        "images": rng.integers(0, 256, (n, 12, 12), dtype=np.uint8),
        "labels": rng.integers(0, 3, n).astype(np.int32),
        "groups": rng.integers(-1, 50, n).astype(np.int32),
        "source_ids": rng.integers(2**33, 2**40, n).astype(np.int64),  # past 32 bits
        "variants": rng.integers(0, 4, n).astype(np.int32),
    }
    names, codepoints = ["あ", "U+XXXX-free", "a/A"], [0x3042, -1, -1]
    attrs = shard_attrs(dataset="d", split="val", shard_index=2, num_shards=5, image_size=12,
                        normalization={"binarize": "otsu", "center": "mass", "margin": 2, "invert": "auto"},
                        balance="500/both", seed=9, charbench_version="x", created_utc="2026-01-01T00:00:00Z")
    info = write_shard(tmp_path / "val-00002-of-00005.h5", arrays, names, codepoints, attrs)
    with h5py.File(tmp_path / info.file, "r") as f:
        for name in ARRAYS:
            np.testing.assert_array_equal(f[name][...], arrays[name], err_msg=name)
        assert [v.decode() for v in f[CLASS_NAME][...]] == names and f[CLASS_CODEPOINT][...].tolist() == codepoints
        assert {k: (v.item() if hasattr(v, "item") else v) for k, v in f.attrs.items()} == attrs
    assert info.count == n and info.content_sha256 == content_sha256(arrays, names, codepoints, attrs)


def test_prepared_dataset_keeps_its_layout(tiny_dataset):
    path = tiny_dataset(per_class=12, seed=5)
    index = json.loads((path / "index.json").read_text())
    assert index["schema_version"] == 1 and set(index["splits"]) == {"train", "val", "test"}
    for split, entry in index["splits"].items():
        ds = open_dataset(path, split)
        assert len(ds) == entry["count"] == sum(ds.shard_counts)
        with h5py.File(ds.shard_paths[0], "r") as f:
            for name, (dtype, ndim) in ARRAYS.items():
                assert f[name].dtype == dtype and f[name].ndim == ndim
            assert set(SHARD_ATTRS) <= set(f.attrs)
            assert f.attrs["split"] == split and f.attrs["dataset"] == "mnist"
            assert f["images"].compression == "gzip" and f["images"].chunks[1:] == (28, 28)
            assert [n.decode() for n in f["classes/name"][...]] == ds.class_names
        assert np.bincount(ds.labels, minlength=10).tolist() == entry["class_counts"]


def test_plain_h5py_reading_example(tiny_dataset):
    """The README's "read a shard without charbench" example, verbatim in spirit."""
    path = tiny_dataset(per_class=5)
    index = json.loads((path / "index.json").read_text())
    shard = path / index["splits"]["train"]["shards"][0]["file"]
    with h5py.File(shard, "r") as f:
        images, labels = f["images"][:], f["labels"][:]
        names = [n.decode() for n in f["classes/name"][:]]
    assert images.shape[1:] == (28, 28) and images.dtype == np.uint8
    assert len(labels) == len(images) and names[labels[0]] == index["classes"][labels[0]]["name"]


def test_same_input_same_content_hash(tiny_dataset):
    a = json.loads((tiny_dataset(per_class=8, seed=1) / "index.json").read_text())
    b = json.loads((tiny_dataset(per_class=8, seed=1) / "index.json").read_text())
    c = json.loads((tiny_dataset(per_class=8, seed=1, split="random") / "index.json").read_text())
    assert a["content_sha256"] == b["content_sha256"] != c["content_sha256"]
    assert a["created_utc"] and a["splits"]["train"]["content_sha256"] == b["splits"]["train"]["content_sha256"]


def test_reader_refuses_future_schema_and_bad_counts(tiny_dataset):
    path = tiny_dataset(per_class=4)
    index = json.loads((path / "index.json").read_text())
    index["schema_version"] = 2
    (path / "index.json").write_text(json.dumps(index))
    with pytest.raises(ShardFormatError, match="schema_version 2"):
        open_dataset(path, "train")
    index["schema_version"] = 1
    index["splits"]["train"]["shards"][0]["count"] += 1
    index["splits"]["train"]["count"] += 1
    (path / "index.json").write_text(json.dumps(index))
    with pytest.raises(ShardFormatError, match="index.json says"):
        open_dataset(path, "train")
    with pytest.raises(ShardFormatError, match="no split 'nope'"):
        open_dataset(path, "nope")


def test_read_across_shard_boundaries(tiny_dataset):
    path = tiny_dataset(per_class=10, shard_size=7)
    ds = open_dataset(path, "train")
    assert len(ds.shard_paths) > 3
    whole = np.concatenate([imgs for imgs, _ in ds.iter_shards()])
    np.testing.assert_array_equal(ds.read(5, 19), whole[5:19])
    np.testing.assert_array_equal(ds.images(), whole)
