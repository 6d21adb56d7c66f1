"""The raw-source record of index.json: which files a dataset was prepared from, with their sha256.

In a source of many files (one image per file), the files a shard reads whole are hashed by the process that
builds the shard, from the bytes it decodes (:func:`charbench.io.source.recorded_reads`), and reach this process
with the shard's ShardInfo: a tree of 70,000 PNGs is not read a second time. Archives, sources of a few files, and
files no shard read whole are hashed here.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from charbench.errors import ShardFormatError
from charbench.io.source import file_digest, is_archive, read_file
from charbench.shards.content import file_sha256

MAX_LISTED = 32  # above this many files, index.json keeps one manifest hash instead of a list
WHOLE_READ_LIMIT = 1 << 24  # larger files are hashed in blocks, here, whoever reads them


class SourceHashes:
    """The sha256 of the raw files ``files`` under ``root``, gathered from whoever read them.

    ``known`` gives (size, sha256) by path of files already read whole (by the scan). With ``defer``, and more than
    MAX_LISTED files (one image per file, as a rule), plain files under 16 MB are left to the shards that will read
    them (:meth:`add`); :meth:`record` hashes any still missing. A few files (idx arrays, label files) are hashed
    here, at once: shards read them in parts, if at all.
    """

    def __init__(self, files: Iterable[str | Path], root: Path, known: Mapping[str, tuple[int, str]] | None = None,
                 defer: bool = False):
        self.root = Path(root)
        # plain strings, ordered as pathlib orders paths (part by part: the separator sorts before any character);
        # pathlib costs more than the work per file
        self.paths = sorted((str(p) for p in files), key=lambda p: p.replace(os.sep, "\0"))
        self.digests: dict[str, tuple[int, str]] = dict(known or {})
        self.stats: dict[str, tuple[int, int]] = {}  # (size, mtime in ns) of the files left to the shards
        defer = defer and len(self.paths) > MAX_LISTED
        # One thread: for the small files of character datasets, threads fight over the GIL between tiny reads and
        # were 8x slower (70,000 MNIST PNGs: 2.5 s on 4 threads, 0.3 s on one); large files are hashed in blocks.
        for p in self.paths:
            if p in self.digests:
                continue
            stat = os.stat(p)
            if defer and stat.st_size < WHOLE_READ_LIMIT and not is_archive(p):
                self.stats[p] = (stat.st_size, stat.st_mtime_ns)
            else:
                self.digests[p] = _size_and_sha256(p, stat.st_size)

    @property
    def pending(self) -> int:
        """Files left to the shards whose digest has not come yet."""
        return sum(p not in self.digests for p in self.stats)

    def plan_record(self) -> dict:
        """What the plan fingerprint covers before the shards are built: the sha256 of the files hashed so far, the
        name, size and modification time of those left to the shards (so a resumed run whose raw files were edited
        starts over, as a changed sha256 would make it); the final record when nothing was left to the shards."""
        if not self.stats:
            return self.record()
        lines = "\n".join("{} {} -  {}".format(*self.stats[p], n) if p in self.stats else
                          "{} {}  {}".format(*self.digests[p], n) for p, n in zip(self.paths, self._names))
        return {"root": str(self.root), "count": len(self.paths), "pending": len(self.stats),
                "listing_sha256": hashlib.sha256(lines.encode()).hexdigest()}

    def add(self, digests: Mapping[str, Sequence]) -> None:
        """Digests ``(size, sha256)`` by path of files that shards read; a file read with other bytes than before is
        an error."""
        for p, (size, digest) in digests.items():
            had = self.digests.get(p)
            if had is None:
                if p in self.stats:
                    self.digests[p] = (size, digest)
            elif had[1] != digest:
                raise ShardFormatError(f"{p} changed while this dataset was being prepared (it was read as two "
                                       "different files); prepare it again with --force")

    def record(self) -> dict:
        """``{"files": [{name, size, sha256}]}`` for a few files, or a manifest sha256 over many."""
        for p in self.paths:
            if p not in self.digests:  # left to the shards, and none read it whole
                self.digests[p] = _size_and_sha256(p, os.stat(p).st_size)
        digests = [self.digests[p] for p in self.paths]
        if len(digests) <= MAX_LISTED:
            return {"root": str(self.root), "count": len(digests), "files": [
                {"name": n, "size": size, "sha256": digest} for n, (size, digest) in zip(self._names, digests)]}
        manifest = "\n".join(f"{digest}  {n}" for n, (_, digest) in zip(self._names, digests))
        return {"root": str(self.root), "count": len(digests), "total_bytes": sum(size for size, _ in digests),
                "manifest_sha256": hashlib.sha256(manifest.encode()).hexdigest()}

    @functools.cached_property
    def _names(self) -> list[str]:
        prefix = str(self.root) + os.sep if self.root.is_dir() else None
        return [(p[len(prefix):] if prefix and p.startswith(prefix) else os.path.basename(p)).replace(os.sep, "/")
                for p in self.paths]


def _size_and_sha256(path: str, size: int) -> tuple[int, str]:
    return file_digest(read_file(path)) if size < WHOLE_READ_LIMIT else (size, file_sha256(Path(path)))
