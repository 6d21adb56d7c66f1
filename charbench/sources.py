"""The raw-source record of index.json: which files a dataset was prepared from, with their sha256."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from charbench.shards.content import file_sha256

MAX_LISTED = 32  # above this many files, index.json keeps one manifest hash instead of a list


def describe_sources(files: list[Path], root: Path) -> dict:
    """``{"files": [{name, size, sha256}]}`` for a few files, or a manifest sha256 over many."""
    root = Path(root)
    paths = sorted(Path(p) for p in files)
    # hashlib releases the GIL on large reads; threads also overlap the open/read latency of many small files.
    with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 1) * 2)) as pool:
        digests = list(pool.map(file_sha256, paths))
    entries = []
    for f, digest in zip(paths, digests):
        try:
            name = f.relative_to(root).as_posix() if root.is_dir() else f.name
        except ValueError:
            name = f.name
        entries.append({"name": name, "size": f.stat().st_size, "sha256": digest})
    if len(entries) <= MAX_LISTED:
        return {"root": str(root), "count": len(entries), "files": entries}
    manifest = "\n".join(f"{e['sha256']}  {e['name']}" for e in entries)
    return {"root": str(root), "count": len(entries), "total_bytes": sum(e["size"] for e in entries),
            "manifest_sha256": hashlib.sha256(manifest.encode()).hexdigest()}
