"""Write labelled arrays already in memory as a prepared dataset (synthetic data, benchmarks, users' own arrays)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np

import charbench
from charbench.shards.content import combine
from charbench.shards.index import write_index
from charbench.shards.schema import DEFAULT_SHARD_SIZE, SCHEMA_VERSION, num_shards, shard_name
from charbench.shards.staging import StagedDataset
from charbench.shards.writer import write_shard


def write_arrays(folder: Path, splits: dict[str, tuple[np.ndarray, np.ndarray]], class_names: list[str], *,
                 shard_size: int = DEFAULT_SHARD_SIZE, seed: int = 0, force: bool = True) -> Path:
    """Write ``{split: (images uint8 [N,S,S], labels [N])}`` as the prepared dataset ``folder`` (atomically).

    Shards hold ``shard_size`` rows each, the last the rest. Groups are unknown (-1), source ids are row numbers,
    nothing is normalised: the arrays are stored as given.
    """
    folder = Path(folder)
    size = int(next(iter(splits.values()))[0].shape[1])
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    entries = {}
    with StagedDataset(folder, force=force) as stage:
        for split, (images, labels) in splits.items():
            n = num_shards(len(labels), shard_size)
            infos = []
            for i in range(n):
                rows = np.arange(i * shard_size, min(len(labels), (i + 1) * shard_size))
                arrays = {"images": images[rows], "labels": labels[rows], "groups": np.full(len(rows), -1),
                          "source_ids": rows, "variants": np.zeros(len(rows))}
                attrs = {"schema_version": SCHEMA_VERSION, "dataset": folder.name, "split": split, "shard_index": i,
                         "num_shards": n, "image_size": size, "binarization": "none", "balance": "none",
                         "seed": seed, "charbench_version": charbench.__version__, "created_utc": created}
                path = stage.tmp / shard_name(split, i, n)
                infos.append(write_shard(path, arrays, class_names, [-1] * len(class_names), attrs).as_dict())
            entries[split] = {"count": len(labels), "shards": infos,
                              "class_counts": np.bincount(labels, minlength=len(class_names)).tolist(),
                              "content_sha256": combine(s["content_sha256"] for s in infos)}
        write_index(stage.tmp, {
            "schema_version": SCHEMA_VERSION, "name": folder.name, "converter": "arrays",
            "charbench_version": charbench.__version__, "created_utc": created, "image_size": size,
            "num_classes": len(class_names), "classes": [{"name": c, "codepoint": None} for c in class_names],
            "splits": entries, "content_sha256": combine(f"{n}:{e['content_sha256']}" for n, e in entries.items()),
        })
        return stage.commit()
