"""Synthetic prepared datasets for the bench tests, written with the real shard writer (not a conftest, so test
modules can import it by a name no other test folder uses)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from charbench.shards.content import combine
from charbench.shards.index import write_index
from charbench.shards.schema import SCHEMA_VERSION, shard_name
from charbench.shards.writer import write_shard


def synthetic_images(labels: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Class k is a bright block at its own place in a 4x4 grid, jittered by a pixel, over sparse noise."""
    n = len(labels)
    images = (rng.random((n, size, size)) < 0.03).astype(np.uint8) * 255
    cell = size // 4
    for i, k in enumerate(labels):
        r, c = divmod(int(k) % 16, 4)
        dr, dc = rng.integers(0, 2, 2)
        images[i, r * cell + dr : (r + 1) * cell - 1 + dr, c * cell + dc : (c + 1) * cell - 1 + dc] = 255
    return images


def write_dataset(
    root: Path,
    name: str = "tiny",
    counts: dict[str, int] | None = None,
    num_classes: int = 4,
    image_size: int = 16,
    shard_size: int = 100,
    seed: int = 0,
) -> Path:
    """Write a prepared dataset ``root/name`` holding the given split sizes; returns its folder."""
    counts = counts or {"train": 240, "val": 60, "test": 80}
    rng = np.random.default_rng(seed)
    folder = Path(root) / name
    folder.mkdir(parents=True, exist_ok=True)
    classes = [f"c{k}" for k in range(num_classes)]
    splits, created = {}, datetime.now(UTC).isoformat()
    for split, n in counts.items():
        labels = (np.arange(n) % num_classes).astype(np.int32)
        rng.shuffle(labels)
        images = synthetic_images(labels, image_size, rng)
        nshards = max(1, -(-n // shard_size))
        infos = []
        for i in range(nshards):
            lo, hi = i * shard_size, min(n, (i + 1) * shard_size)
            arrays = {
                "images": images[lo:hi],
                "labels": labels[lo:hi],
                "groups": np.full(hi - lo, -1),
                "source_ids": np.arange(lo, hi),
                "variants": np.zeros(hi - lo),
            }
            attrs = {
                "schema_version": SCHEMA_VERSION,
                "dataset": name,
                "split": split,
                "shard_index": i,
                "num_shards": nshards,
                "image_size": image_size,
                "binarization": "none",
                "balance": "none",
                "seed": seed,
                "charbench_version": "test",
                "created_utc": created,
            }
            infos.append(
                write_shard(folder / shard_name(split, i, nshards), arrays, classes, [-1] * num_classes, attrs)
            )
        shards = [info.as_dict() for info in infos]
        splits[split] = {"count": n, "shards": shards, "content_sha256": combine(s["content_sha256"] for s in shards)}
    index = {
        "schema_version": SCHEMA_VERSION,
        "name": name,
        "converter": name,
        "image_size": image_size,
        "num_classes": num_classes,
        "classes": [{"name": c, "codepoint": None} for c in classes],
        "splits": splits,
        "content_sha256": combine(f"{n}:{splits[n]['content_sha256']}" for n in splits),
    }
    write_index(folder, index)
    return folder
