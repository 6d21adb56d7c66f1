"""charbench verify finds every kind of damage, each with its own message and a non-zero exit."""

import json
import shutil

import h5py
import pytest

from charbench.cli.main import main
from charbench.shards.verify import verify_dataset


@pytest.fixture
def dataset(tiny_dataset):
    return tiny_dataset(per_class=6, shard_size=20)


def _run(path, capsys):
    rc = main(["verify", str(path)])
    return rc, capsys.readouterr().err


def test_clean_dataset_verifies(dataset, capsys):
    assert verify_dataset(dataset) == []
    assert _run(dataset, capsys)[0] == 0


@pytest.mark.parametrize("offset_fraction", [0.1, 0.5, 0.9])
def test_flipped_byte_in_any_shard(dataset, capsys, offset_fraction):
    for shard in sorted(dataset.glob("*.h5")):
        data = bytearray(shard.read_bytes())
        pos = int(len(data) * offset_fraction)
        data[pos] ^= 0xFF
        shard.write_bytes(bytes(data))
        rc, err = _run(dataset, capsys)
        assert rc == 1 and shard.name in err and "sha256 differs" in err
        data[pos] ^= 0xFF
        shard.write_bytes(bytes(data))
    assert verify_dataset(dataset) == []


def test_missing_shard(dataset, capsys):
    victim = min(dataset.glob("train-*.h5"))
    victim.unlink()
    rc, err = _run(dataset, capsys)
    assert rc == 1 and "shard missing" in err and victim.name in err


def test_shard_from_another_dataset(dataset, tiny_dataset, capsys):
    other = tiny_dataset(name="other", per_class=6, shard_size=20)
    name = min(dataset.glob("test-*.h5")).name
    shutil.copy(min(other.glob("test-*.h5")), dataset / name)
    rc, err = _run(dataset, capsys)
    assert rc == 1 and "belongs to dataset 'other'" in err


def test_edited_index(dataset, capsys):
    index = json.loads((dataset / "index.json").read_text())
    index["classes"][0]["name"] = "zero"
    (dataset / "index.json").write_text(json.dumps(index))
    rc, err = _run(dataset, capsys)
    assert rc == 1 and "was edited" in err and "class table differs" in err


def test_rewritten_content_with_matching_file_hash_is_caught(dataset):
    shard = min(dataset.glob("train-*.h5"))
    with h5py.File(shard, "r+") as f:
        f["labels"][0] = (f["labels"][0] + 1) % 10
    index = json.loads((dataset / "index.json").read_text())
    from charbench.shards.content import file_sha256
    from charbench.shards.index import write_index

    for s in index["splits"]["train"]["shards"]:
        if s["file"] == shard.name:
            s["sha256"] = file_sha256(shard)  # a forger fixing the file hash still fails the content hash
    write_index(dataset, index)
    problems = verify_dataset(dataset)
    assert any("content hash differs" in p for p in problems)


def test_not_a_dataset(tmp_path, capsys):
    rc, err = _run(tmp_path, capsys)
    assert rc == 1 and "no index.json" in err
