"""``charbench verify``: recompute every hash of a prepared dataset and check it against the schema."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from charbench.errors import ShardFormatError
from charbench.kernels.polarity import InkTally
from charbench.shards.content import content_sha256, file_sha256
from charbench.shards.index import index_digest, read_index
from charbench.shards.schema import ARRAYS, CLASS_CODEPOINT, CLASS_NAME, SCHEMA_VERSION, dataset_hash, split_hash


@dataclass
class Verification:
    """What ``verify`` found: problems (the dataset does not verify), ink per split, and warnings."""

    problems: list[str] = field(default_factory=list)
    ink: dict[str, dict] = field(default_factory=dict)  # split -> InkTally.as_dict()
    warnings: list[str] = field(default_factory=list)


def verify_dataset(dataset_dir: Path) -> list[str]:
    """Every problem found in ``dataset_dir`` as one message each; an empty list means it verifies."""
    return check_dataset(dataset_dir).problems


def check_dataset(dataset_dir: Path) -> Verification:
    """Recompute every hash and check the schema, counts and class table; tally ink coverage and polarity."""
    dataset_dir = Path(dataset_dir)
    try:
        index = read_index(dataset_dir)
    except ShardFormatError as exc:
        return Verification([str(exc)])
    result = Verification()
    problems = result.problems
    if index.get("index_sha256") != index_digest(index):
        problems.append(f"{dataset_dir}/index.json was edited after prepare (its index_sha256 does not match)")
    split_hashes = {}
    for split, entry in index["splits"].items():
        hashes, tally = [], InkTally()
        for shard in entry["shards"]:
            found, content = _check_shard(dataset_dir / shard["file"], shard, split, index, tally)
            problems += found
            hashes.append(content)
        result.ink[split] = tally.as_dict()
        if warning := tally.warning(f"{dataset_dir.name}/{split}"):
            result.warnings.append(warning)
        split_hashes[split] = split_hash(hashes)
        if split_hashes[split] != entry.get("content_sha256"):
            problems.append(f"split {split}: content hash differs from index.json")
        if sum(int(s["count"]) for s in entry["shards"]) != int(entry["count"]):
            problems.append(f"split {split}: shard counts do not add up to {entry['count']}")
    if dataset_hash(split_hashes) != index["content_sha256"]:
        problems.append(f"{dataset_dir}: dataset content hash differs from index.json")
    return result


def _check_shard(path: Path, shard: dict, split: str, index: dict, tally: InkTally) -> tuple[list[str], str]:
    if not path.is_file():
        return [f"{path}: shard missing"], ""
    problems = []
    if file_sha256(path) != shard["sha256"]:
        problems.append(f"{path}: sha256 differs from index.json (file changed or corrupted)")
    try:
        with h5py.File(path, "r") as f:
            attrs = dict(f.attrs)
            arrays = {name: f[name][...] for name in ARRAYS}
            names = [n.decode() if isinstance(n, bytes) else n for n in f[CLASS_NAME][...]]
            codepoints = f[CLASS_CODEPOINT][...].tolist()
    except (OSError, KeyError) as exc:
        return problems + [f"{path}: unreadable shard ({exc})"], ""
    problems += _check_attrs(path, attrs, split, index)
    problems += _check_arrays(path, arrays, shard, index, names)
    if arrays["images"].ndim == 3 and arrays["images"].dtype == np.uint8:
        tally.add(arrays["images"])
    content = content_sha256(arrays, names, codepoints, attrs)
    if content != shard["content_sha256"]:
        problems.append(f"{path}: content hash differs from index.json")
    return problems, content


def _check_attrs(path: Path, attrs: dict, split: str, index: dict) -> list[str]:
    problems = []
    if attrs.get("schema_version") != SCHEMA_VERSION:
        problems.append(f"{path}: schema_version {attrs.get('schema_version')!r}, expected {SCHEMA_VERSION}")
    if attrs.get("dataset") != index["name"]:
        problems.append(f"{path}: shard belongs to dataset {attrs.get('dataset')!r}, not {index['name']!r}")
    if attrs.get("split") != split:
        problems.append(f"{path}: shard belongs to split {attrs.get('split')!r}, not {split!r}")
    return problems


def _check_arrays(path: Path, arrays: dict, shard: dict, index: dict, names: list[str]) -> list[str]:
    problems = []
    n, s = int(shard["count"]), int(index["image_size"])
    for name, (dtype, ndim) in ARRAYS.items():
        a = arrays[name]
        if a.dtype != dtype or a.ndim != ndim or len(a) != n:
            problems.append(f"{path}: /{name} is {a.dtype} {a.shape}, expected {dtype} with {ndim} dims and {n} rows")
    if arrays["images"].shape[1:] != (s, s):
        problems.append(f"{path}: images are {arrays['images'].shape[1:]}, index.json says {s}x{s}")
    labels = arrays["labels"]
    if len(labels) and (labels.min() < 0 or labels.max() >= len(index["classes"])):
        problems.append(f"{path}: labels outside 0..{len(index['classes']) - 1}")
    if names != [c["name"] for c in index["classes"]]:
        problems.append(f"{path}: class table differs from index.json")
    return problems if not np.any(arrays["variants"] < 0) else problems + [f"{path}: negative variant numbers"]
