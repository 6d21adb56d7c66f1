"""Write labelled arrays already in memory as a prepared dataset (synthetic data, benchmarks, users' own arrays)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np

import charbench
from charbench.shards.index import write_index
from charbench.shards.schema import (
    DEFAULT_SHARD_SIZE,
    dataset_hash,
    index_skeleton,
    num_shards,
    shard_attrs,
    shard_name,
    split_hash,
)
from charbench.shards.staging import StagedDataset
from charbench.shards.writer import write_shard

# What "stored as given" means in the normalisation attributes.
AS_GIVEN = {"binarize": "none", "center": "none", "margin": 0, "invert": "no"}


def write_arrays(folder: Path, splits: dict[str, tuple[np.ndarray, np.ndarray]], class_names: list[str], *,
                 shard_size: int = DEFAULT_SHARD_SIZE, seed: int = 0, force: bool = True, converter: str = "arrays",
                 config: str | None = None, split_record: dict | None = None) -> Path:
    """Write ``{split: (images uint8 [N,S,S], labels [N])}`` as the prepared dataset ``folder`` (atomically).

    Shards hold ``shard_size`` rows each, the last the rest. Groups are unknown (-1), source ids are row numbers,
    nothing is normalised: the arrays are stored as given. ``converter`` and ``config`` record which dataset the
    arrays are (``mnist`` ...: its reference models and targets then apply in ``charbench run``); ``split_record``
    is how they were split, as index.json records it (method, group_by ...).
    """
    folder = Path(folder)
    size = int(next(iter(splits.values()))[0].shape[1])
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    common = {"dataset": folder.name, "image_size": size, "normalization": AS_GIVEN, "balance": "none",
              "seed": seed, "charbench_version": charbench.__version__, "created_utc": created}
    entries = {}
    with StagedDataset(folder, force=force) as stage:
        for split, (images, labels) in splits.items():
            n = num_shards(len(labels), shard_size)
            infos = []
            for i in range(n):
                rows = np.arange(i * shard_size, min(len(labels), (i + 1) * shard_size))
                arrays = {"images": images[rows], "labels": labels[rows], "groups": np.full(len(rows), -1),
                          "source_ids": rows, "variants": np.zeros(len(rows))}
                attrs = shard_attrs(split=split, shard_index=i, num_shards=n, **common)
                path = stage.tmp / shard_name(split, i, n)
                infos.append(write_shard(path, arrays, class_names, [-1] * len(class_names), attrs).as_dict())
            entries[split] = {"count": len(labels), "shards": infos,
                              "class_counts": np.bincount(labels, minlength=len(class_names)).tolist(),
                              "content_sha256": split_hash(s["content_sha256"] for s in infos)}
        index = index_skeleton(name=folder.name, converter=converter, config=config, converter_version="1",
                               charbench_version=charbench.__version__, created_utc=created, image_size=size,
                               classes=[(c, -1) for c in class_names], normalization={"size": size, **AS_GIVEN},
                               split=split_record or {"method": "official"})
        write_index(stage.tmp, {**index, "splits": entries,
                                "content_sha256": dataset_hash({n: e["content_sha256"] for n, e in entries.items()})})
        return stage.commit()
