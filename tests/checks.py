"""``check_converter``: run a full prepare on raw files and check what comes back, for every dataset test."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from charbench.prepare import PrepareConfig, prepare
from charbench.shards.reader import open_dataset
from charbench.shards.verify import verify_dataset


def check_converter(name: str, raw_dir: Path, out: Path, expected: dict[str, int] | None = None,
                    **config) -> dict:
    """Prepare ``name`` from ``raw_dir`` into ``out``; check counts, dtypes, hashes and disjoint splits.

    Returns ``{split: SplitReader}`` for further, dataset-specific checks.
    """
    config.setdefault("progress", False)
    config.setdefault("workers", 1)
    path = prepare(PrepareConfig(name=name, source=raw_dir, out=out, **config))
    assert verify_dataset(path) == []
    readers = {}
    seen_keys: dict[tuple[int, int], str] = {}
    for split in open_dataset(path, next(iter(_splits(path)))).index["splits"]:
        ds = open_dataset(path, split)
        images = ds.images()
        assert images.dtype == np.uint8 and images.shape == (len(ds), ds.image_size, ds.image_size)
        assert ds.labels.dtype == np.int32 and ds.groups.dtype == np.int32 and ds.source_ids.dtype == np.int64
        assert ds.labels.min() >= 0 and ds.labels.max() < ds.num_classes
        for key in zip(ds.source_ids.tolist(), ds.variants.tolist()):
            assert key not in seen_keys, f"example {key} in both {seen_keys[key]} and {split}"
            seen_keys[key] = split
        readers[split] = ds
    if expected is not None:
        assert {s: len(r) for s, r in readers.items()} == expected
    return readers


def _splits(path: Path) -> list[str]:
    import json

    return list(json.loads((path / "index.json").read_text())["splits"])
