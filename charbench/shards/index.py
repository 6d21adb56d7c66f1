"""index.json: the dataset card. Reading, writing and the cheap consistency checks."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from charbench.errors import ShardFormatError
from charbench.shards.schema import INDEX_FILE, INDEX_REQUIRED, SCHEMA_VERSION


def read_index(dataset_dir: Path) -> dict:
    """Load and check ``<dataset_dir>/index.json``; raise ShardFormatError with the reason when it is unusable."""
    path = Path(dataset_dir) / INDEX_FILE
    if not path.is_file():
        raise ShardFormatError(f"no {INDEX_FILE} in {dataset_dir}: not a prepared charbench dataset")
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ShardFormatError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(index, dict):
        raise ShardFormatError(f"{path} must hold a JSON object")
    missing = [k for k in INDEX_REQUIRED if k not in index]
    if missing:
        raise ShardFormatError(f"{path} lacks {', '.join(missing)}")
    if index["schema_version"] != SCHEMA_VERSION:
        raise ShardFormatError(
            f"{path} has schema_version {index['schema_version']!r}; this charbench reads version {SCHEMA_VERSION}"
        )
    return index


def index_digest(index: dict) -> str:
    """sha256 of the canonical JSON of ``index`` without its own ``index_sha256`` field (detects hand edits)."""
    body = {k: v for k, v in index.items() if k != "index_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def write_index(dataset_dir: Path, index: dict) -> Path:
    """Write index.json atomically (temporary name, then rename), sealed with its own digest."""
    index = {**index, "index_sha256": index_digest(index)}
    path = Path(dataset_dir) / INDEX_FILE
    tmp = path.with_name(INDEX_FILE + ".tmp")
    tmp.write_text(json.dumps(index, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def list_datasets(root: Path) -> list[Path]:
    """Sub-folders of ``root`` that hold an index.json, sorted by name."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / INDEX_FILE).is_file() and not p.name.startswith("."))
