"""The ledger of a dataset being built: its plan, and a receipt per finished shard.

A prepare (or one slice of an array job) first writes ``_plan.json``: the index.json skeleton and a
fingerprint of everything that decides shard content. Each shard, once renamed into place, gets a
receipt ``_done/<file>.json`` with its hashes. A resumed run reuses a shard only when the plan
fingerprint matches and the file's sha256 equals its receipt; ``assemble`` turns a complete ledger
into index.json and removes the ledger files.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from charbench.errors import ShardFormatError
from charbench.shards.content import file_sha256
from charbench.shards.schema import dataset_hash, split_hash
from charbench.shards.writer import ShardInfo

PLAN_FILE = "_plan.json"
DONE_DIR = "_done"


def write_plan(folder: Path, plan: dict, keep_other: bool = False) -> bool:
    """Record ``plan`` in ``folder``; True when the folder already held this exact plan (so work can resume).

    A folder holding another plan is emptied first (none of its shards can be reused), unless
    ``keep_other``, where it is an error instead (array-job slices must agree on one plan).
    """
    path = folder / PLAN_FILE
    if path.is_file():
        try:
            same = json.loads(path.read_text(encoding="utf-8"))["fingerprint"] == plan["fingerprint"]
        except (ValueError, KeyError):
            same = False
        if same:
            return True
        if keep_other:
            raise ShardFormatError(f"{folder} holds slices of a prepare with other parameters or raw files; "
                                   f"remove it (or pass --force) to start over")
        for child in folder.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    tmp = path.with_name(f"{PLAN_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    return False


def read_plan(folder: Path) -> dict:
    path = Path(folder) / PLAN_FILE
    if not path.is_file():
        raise ShardFormatError(f"{folder} holds no {PLAN_FILE}: not a prepare in progress or an array-job output")
    return json.loads(path.read_text(encoding="utf-8"))


def record_shard(folder: Path, info: ShardInfo) -> None:
    """Write the receipt of a shard that is complete on disk."""
    done = folder / DONE_DIR
    done.mkdir(exist_ok=True)
    tmp = done / f"{info.file}.json.tmp"
    tmp.write_text(json.dumps(info.as_dict()), encoding="utf-8")
    os.replace(tmp, done / f"{info.file}.json")


def finished(folder: Path) -> dict[str, ShardInfo]:
    """Receipts whose shard file exists and still has the recorded sha256."""
    out = {}
    for receipt in sorted((folder / DONE_DIR).glob("*.json")):
        try:
            info = ShardInfo(**json.loads(receipt.read_text(encoding="utf-8")))
        except (ValueError, TypeError):
            continue
        shard = folder / info.file
        if shard.is_file() and file_sha256(shard) == info.sha256:
            out[info.file] = info
    return out


def assemble(folder: Path) -> dict:
    """index.json content from a complete ledger; ShardFormatError listing the shards still missing."""
    plan = read_plan(folder)
    done = finished(folder)
    missing = [t["file"] for t in plan["tasks"] if t["file"] not in done]
    if missing:
        raise ShardFormatError(f"{folder}: {len(missing)} of {len(plan['tasks'])} shards are not finished "
                               f"(e.g. {', '.join(missing[:3])}); run the missing slices, then charbench index again")
    index = dict(plan["index"])
    splits = {}
    for task in plan["tasks"]:
        stats = plan["split_stats"][task["split"]]
        entry = splits.setdefault(task["split"], {"count": 0, "shards": [], **stats,
                                                  "class_counts": list(stats["class_counts"])})
        info = done[task["file"]]
        entry["count"] += info.count
        entry["shards"].append(info.as_dict())
        _count_dropped(index, entry, info.dropped)
    for entry in splits.values():
        entry["content_sha256"] = split_hash(s["content_sha256"] for s in entry["shards"])
    index["splits"] = splits
    index["content_sha256"] = dataset_hash({n: e["content_sha256"] for n, e in splits.items()})
    return index


def _count_dropped(index: dict, entry: dict, dropped) -> None:
    """Planned rows a shard left out (images that did not decode): out of the split's counts, into the skip record."""
    skipped, examples = dict(index.get("skipped") or {}), list(index.get("skipped_examples") or [])
    for label, variant, reason, name in dropped:
        entry["class_counts"][label] -= 1
        entry["varied_copies"] -= variant > 0
        if variant == 0:  # a file counts once, not once per varied copy of it
            skipped[reason] = skipped.get(reason, 0) + 1
            if len(examples) < 20:
                examples.append(f"{name} ({reason})")
    index["skipped"], index["skipped_examples"] = skipped, examples


def clear(folder: Path) -> None:
    """Remove the ledger files once index.json is written."""
    shutil.rmtree(folder / DONE_DIR, ignore_errors=True)
    (folder / PLAN_FILE).unlink(missing_ok=True)
