"""Write sha256 and size values into data_manifest.yaml, so that none is ever typed by hand.

Two sources are accepted:

* real files: ``python scripts/hash_manifest.py FILE... [--dataset NAME] --source "where the files came from"``
  hashes each file and updates every manifest file record with the same name (restricted to ``--dataset`` when the
  name is ambiguous, e.g. ``t10k-images-idx3-ubyte.gz`` in mnist, fashion-mnist and kmnist);
* a published checksum list: ``python scripts/hash_manifest.py --from-tsv LIST --source "tensorflow/datasets ..."``
  where each line is ``URL SIZE SHA256 [NAME]`` (the tensorflow-datasets url_checksums layout; SIZE may be ``-``)
  and updates the file records listing that URL.

A recorded sha256 that differs from the new one is never overwritten without ``--force``: a disagreement means one of
the two files is not what it claims to be. The manifest is validated after the update and written atomically.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

import yaml

from charbench.io.download import sha256sum
from charbench.manifest import load_manifest, manifest_path

HEADER = (
    "# charbench data catalogue: one entry per dataset, schema in charbench/manifest.py.\n"
    "# sha256 and size values are written by scripts/hash_manifest.py from real files or published checksum lists,\n"
    "# never typed by hand; checksum_source says where each one came from.\n"
)
_SHA = re.compile(r"[0-9a-f]{64}")


class ManifestUpdateError(Exception):
    """A value cannot be recorded (unknown file, ambiguous name, conflicting sha256, malformed list)."""


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    path = Path(args.manifest) if args.manifest else manifest_path()
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        if args.from_tsv:
            records = _read_tsv(Path(args.from_tsv))
            changes = [_apply(data, _by_url(data, url, args.dataset), sha, size, args) for url, size, sha in records]
        else:
            changes = [_apply_file(data, Path(f), args) for f in args.files]
    except ManifestUpdateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for line in (line for group in changes for line in group):
        print(line)
    if args.dry_run:
        print("dry run: manifest not written")
        return 0
    _write(path, data)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="real raw files to hash")
    parser.add_argument("--from-tsv", help="checksum list: URL SIZE SHA256 [NAME] per line")
    parser.add_argument("--source", required=True, help="where the files or the list come from (checksum_source)")
    parser.add_argument("--dataset", action="append", help="only update these datasets (repeatable)")
    parser.add_argument("--manifest", help="manifest to update (default: the one charbench loads)")
    parser.add_argument("--force", action="store_true", help="overwrite a recorded sha256 that differs")
    parser.add_argument("--dry-run", action="store_true", help="print the changes without writing")
    return parser


def _apply_file(data: dict, file: Path, args: argparse.Namespace) -> list[str]:
    if not file.is_file():
        raise ManifestUpdateError(f"{file} is not a file")
    records = _by_name(data, file.name, args.dataset)
    return _apply(data, records, sha256sum(file), file.stat().st_size, args)


def _apply(
    data: dict, records: list[tuple[str, dict]], sha: str, size: int | None, args: argparse.Namespace
) -> list[str]:
    lines = []
    for dataset, record in records:
        old = record.get("sha256")
        where = f"{dataset}/{record['name']}"
        if old and old != sha and not args.force:
            raise ManifestUpdateError(f"{where} records sha256 {old}, the new value is {sha}; check, then use --force")
        if old == sha and (size is None or record.get("size") == size):
            record["checksum_source"] = _merge_source(record.get("checksum_source"), args.source)
            lines.append(f"{where}: sha256 confirmed")
            continue
        record["sha256"] = sha
        if size is not None:
            record["size"] = size
        record["checksum_source"] = args.source
        lines.append(f"{where}: sha256 {sha} size {record.get('size')}")
    return lines


def _by_name(data: dict, name: str, only: list[str] | None) -> list[tuple[str, dict]]:
    found = [(e["name"], f) for e in _entries(data, only) for f in e["files"] if f["name"] == name]
    if not found:
        raise ManifestUpdateError(f"no file named {name!r} in the manifest{_scope(only)}")
    if len({tuple(f["urls"]) for _, f in found}) > 1:
        owners = ", ".join(d for d, _ in found)
        raise ManifestUpdateError(f"{name!r} is a different file in {owners}; pick one with --dataset")
    return found


def _by_url(data: dict, url: str, only: list[str] | None) -> list[tuple[str, dict]]:
    found = [(e["name"], f) for e in _entries(data, only) for f in e["files"] if url in f["urls"]]
    if not found:
        raise ManifestUpdateError(f"no file record lists {url}{_scope(only)}")
    return found


def _entries(data: dict, only: list[str] | None) -> list[dict]:
    return [e for e in data["datasets"] if not only or e["name"] in only]


def _scope(only: list[str] | None) -> str:
    return f" (datasets {', '.join(only)})" if only else ""


def _merge_source(old: str | None, new: str) -> str:
    if not old:
        return new
    return old if new in old else f"{old}; confirmed by {new}"


def _read_tsv(path: Path) -> list[tuple[str, int | None, str]]:
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) < 3 or not _SHA.fullmatch(fields[2]) or not (fields[1].isdigit() or fields[1] == "-"):
            raise ManifestUpdateError(f"{path}:{number}: expected 'URL SIZE SHA256 [NAME]', got {line!r}")
        records.append((fields[0], None if fields[1] == "-" else int(fields[1]), fields[2]))
    return records


def _write(path: Path, data: dict) -> None:
    text = HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(tmp, path.stat().st_mode & 0o777)  # mkstemp makes 0600 files
    try:
        load_manifest.__wrapped__(tmp)  # validate before it replaces the real file
    except Exception:
        os.unlink(tmp)
        raise
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main())
