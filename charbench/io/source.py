"""One view of a dataset's raw files, wherever they are: a folder, a zip or tar archive, or a folder holding archives.

Every converter reads its raw files through :class:`RawSource`:

* **One listing.** A folder is listed with ``os.scandir`` (regular files and links to them, no descent into linked
  folders); every zip or tar file inside it is listed too, as if extracted in place, so ``train.csv`` beside
  ``train_images.zip``, ``kkanji.tar`` alone, or ``images_background.zip`` next to its extracted copy all read the
  same way. A path found in several places is taken from the folder first, then from the archives in path order.
  The listing is the sorted relative posix paths, so row numbers derived from it do not depend on whether a file was
  extracted or zipped.
* **Junk rules.** ``.DS_Store``, ``Thumbs.db``, ``__MACOSX/`` and ``._*`` AppleDouble files are left out and counted.
* **Safe names.** Archive entries with an absolute path, ``..``, links, devices or a duplicate name are left out and
  listed in ``unsafe`` (nothing is ever extracted here; ``safe_extract`` stays strict).
* **Lazy reads.** Archives are opened on first read in each process and dropped on pickling, so a scanned converter
  can be sent to worker processes. Folder files are read with ``os.read`` (half the cost of ``open().read()`` on the
  small files of character datasets) and can have their (size, sha256) remembered for index.json's source record
  (by the scan, ``remember_digests``, or by whatever reads them inside :func:`recorded_reads`).
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import hashlib
import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Self

from charbench.errors import FormatError, RawDataNotFoundError
from charbench.io.archive import ARCHIVE_SUFFIXES, Archive, is_archive, open_archive, quiet_is_tar

_JUNK_NAMES = frozenset({".DS_Store", "Thumbs.db"})
FOLDER = -1  # root index of files that live in the source folder itself


def is_junk(path: str | os.PathLike) -> bool:
    """True for operating-system litter: ``.DS_Store``, ``Thumbs.db``, ``__MACOSX/`` and ``._*`` AppleDouble files."""
    path = str(path).replace("\\", "/").rstrip("/")  # plain strings: called once per listed file
    name = path.rpartition("/")[2]
    return name.startswith("._") or name in _JUNK_NAMES or ("__MACOSX" in path and "__MACOSX" in path.split("/"))


def strip_archive_suffix(name: str) -> str:
    """``images_background.zip`` -> ``images_background`` (any suffix of ARCHIVE_SUFFIXES)."""
    lower = name.lower()
    for suffix in sorted(ARCHIVE_SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return name


def file_digest(data: bytes) -> tuple[int, str]:
    """(size, sha256) of a raw file's bytes, as index.json's source record lists them."""
    return len(data), hashlib.sha256(data).hexdigest()


# (size, sha256) by path of the folder files read whole inside recorded_reads(), in this process
_recorded: dict[str, tuple[int, str]] | None = None


@contextlib.contextmanager
def recorded_reads() -> Iterator[dict[str, tuple[int, str]]]:
    """The (size, sha256) by path of every folder file a RawSource of this process reads whole within the block:
    what a shard was built from, hashed from the bytes it decoded (index.json's source record needs no second
    read)."""
    global _recorded
    outer, _recorded = _recorded, {}
    try:
        yield _recorded
    finally:
        _recorded = outer


def read_file(path: str) -> bytes:
    """A whole file through os.read."""
    fd = os.open(path, os.O_RDONLY)
    try:
        parts = []
        while block := os.read(fd, 1 << 20):
            parts.append(block)
    finally:
        os.close(fd)
    return parts[0] if len(parts) == 1 else b"".join(parts)


class RawSource:
    """The raw files of one ``--source``: a folder (with the archives inside it), an archive, or a single file.

    Attributes:
        path: what ``--source`` named.
        archives: the archive files read as part of the listing (the source itself when it is an archive).
        junk: how many junk files were left out.
        shadowed: how many files were listed again under a path already taken (an archive beside its extracted copy).
        folders: every folder of the listing, empty ones included (relative posix paths).
        unsafe: ``archive: entry`` of the archive entries left out as unsafe.
    """

    def __init__(self, path: str | os.PathLike, *, remember_digests: bool = False):
        self.path = Path(path)
        if not self.path.exists():
            raise RawDataNotFoundError(f"raw source {self.path} not found (or not readable)")
        self.junk, self.shadowed, self.unsafe = 0, 0, []
        self._folder: str | None = None
        self._open: dict[int, Archive] = {}
        # (size, sha256) of every folder file read whole, by path: index.json then needs no second read
        self.digests: dict[str, tuple[int, str]] | None = {} if remember_digests else None
        self._where: dict[str, int] = {}  # relative path -> FOLDER or index into self.archives
        folders: set[str] = set()
        if self.path.is_dir():
            self._folder = os.path.join(str(self.path), "")
            listed: list[str] = []
            _scan_folder(self._folder, "", listed, folders)
            plain, archives = [], []
            for rel in listed:
                (archives if is_archive(rel) else plain).append(rel)
            self.archives = sorted(self.path / rel for rel in archives if not is_junk(rel))
            self._add(FOLDER, plain)
        elif is_archive(self.path) or zipfile.is_zipfile(self.path) or quiet_is_tar(self.path):
            self.archives = [self.path]
        else:  # one plain file: its folder is the root, and it is the only file listed
            self._folder = os.path.join(str(self.path.parent), "")
            self.archives = []
            self._add(FOLDER, [self.path.name])
        for i in range(len(self.archives)):
            archive = self._archive(i)
            self.unsafe += [f"{self.archives[i].name}: {name}" for name in archive.unsafe]
            self._add(i, archive.members())
            folders.update(f for f in archive.folders if not is_junk(f + "/x"))
        self.files = sorted(self._where)
        holding: set[str] = set()  # the folders holding files, whatever listed them
        for rel in self.files:
            while "/" in rel and (rel := rel.rpartition("/")[0]) not in holding:
                holding.add(rel)  # and its parents, unless an earlier file added them already
        self.folders = sorted(folders | holding)

    def _add(self, root: int, rels) -> None:
        for rel in rels:
            if is_junk(rel):
                self.junk += 1
            elif rel in self._where:
                self.shadowed += 1
            else:
                self._where[rel] = root

    # -- finding --------------------------------------------------------------------------------------------------

    def find(self, pattern: str) -> list[str]:
        """Files whose relative path matches the fnmatch ``pattern`` (``*`` crosses folders), sorted."""
        return [rel for rel in self.files if fnmatch.fnmatchcase(rel, pattern)]

    def find_named(self, names: list[str], prefer: str | None = None) -> str | None:
        """The one file called any of ``names`` (its spellings, e.g. gzipped and not), wherever it is.

        Several matches are resolved in favour of a path through a ``prefer`` folder (torchvision's ``MNIST``,
        ``FashionMNIST`` ...), then of the shallowest; matches left that are not spellings of one file are an
        error, since MNIST, Fashion-MNIST and KMNIST share file names and a wrong guess would silently mix datasets.
        """
        wanted = set(names)
        found = [rel for rel in self.files if rel.rpartition("/")[2] in wanted]
        if prefer and (through := [r for r in found if prefer.lower() in r.lower().split("/")[:-1]]):
            found = through
        if not found:
            return None
        depth = min(r.count("/") for r in found)
        shallow = [r for r in found if r.count("/") == depth]
        if len({r.removesuffix(".gz") for r in shallow}) > 1:
            listing = ", ".join(self.describe(r) for r in shallow[:4])
            raise FormatError(f"several candidates for {names[0]} in {self.path}: {listing}; "
                              "point --source at one folder")
        return shallow[0]

    # -- reading --------------------------------------------------------------------------------------------------

    def read(self, rel: str) -> bytes:
        """The bytes of file ``rel``."""
        root = self._root(rel)
        if root == FOLDER:
            path = self._folder + rel
            try:
                data = read_file(path)
            except OSError as exc:
                raise RawDataNotFoundError(f"cannot read {path}: {exc}") from None
            books = [b for b in (self.digests, _recorded) if b is not None and path not in b]
            if books:
                digest = file_digest(data)
                for book in books:
                    book[path] = digest
            return data
        return self._archive(root).read(rel)

    def head(self, rel: str, size: int = 256) -> bytes:
        """At least the first ``size`` bytes of ``rel`` (all of it for an archive member, which is read whole)."""
        if self._root(rel) == FOLDER:
            try:
                with open(self._folder + rel, "rb") as f:
                    return f.read(size)
            except OSError as exc:
                raise RawDataNotFoundError(f"cannot read {self._folder + rel}: {exc}") from None
        return self.read(rel)

    def local_path(self, rel: str, workdir: Path) -> Path:
        """A file on disk holding ``rel``'s bytes: the file itself, or the archive member extracted into ``workdir``."""
        root = self._root(rel)
        if root == FOLDER:
            return Path(self._folder + rel)
        target = Path(workdir) / PurePosixPath(rel).name
        target.parent.mkdir(parents=True, exist_ok=True)
        self._archive(root).extract_member(rel, target)
        return target

    def remember(self, rel: str, digest: tuple[int, str]) -> None:
        """Record the (size, sha256) of folder file ``rel`` read elsewhere (by a worker process of a scan)."""
        if self.digests is not None and self._root(rel) == FOLDER:
            self.digests[self._folder + rel] = digest

    # -- naming ---------------------------------------------------------------------------------------------------

    def describe(self, rel: str) -> str:
        """A name for messages: ``folder/rel`` or ``archive.zip:rel``."""
        root = self._root(rel)
        return self._folder + rel if root == FOLDER else f"{self.archives[root]}:{rel}"

    def file_path(self, rel: str) -> str:
        """The file on disk holding ``rel``: the file itself, or the archive it lives in (a string: there may be
        many, and pathlib costs more than the work per file)."""
        root = self._root(rel)
        return self._folder + rel if root == FOLDER else str(self.archives[root])

    def file_paths(self, rels) -> list[str]:
        """:meth:`file_path` of each of ``rels``, each file once."""
        return list(dict.fromkeys(self.file_path(rel) for rel in rels))

    def root_name(self, rel: str) -> str:
        """The folder name, or the archive's name without its suffix, that ``rel`` is listed under: what a tree
        layout sees above the listed path (a source pointed at ``images_background`` itself, or a zip of that
        folder's content without the folder)."""
        root = self._root(rel)
        return self.path.name if root == FOLDER else strip_archive_suffix(self.archives[root].name)

    def subset(self, rels: list[str]) -> RawSource:
        """A copy that lists only ``rels`` (small to pickle: what a worker process needs to read them)."""
        part = object.__new__(RawSource)
        part.__dict__.update(self.__getstate__())
        part._where = {rel: self._where[rel] for rel in rels}
        part.files = list(rels)
        return part

    def where(self, rel: str) -> int:
        """FOLDER, or the index in ``archives`` of the archive ``rel`` is read from."""
        return self._root(rel)

    # -- lifetime -------------------------------------------------------------------------------------------------

    def _root(self, rel: str) -> int:
        try:
            return self._where[rel]
        except KeyError:
            raise RawDataNotFoundError(f"{rel} is not a file of {self.path}") from None

    def _archive(self, i: int) -> Archive:
        if i not in self._open:  # opened lazily, in whichever process reads
            self._open[i] = open_archive(self.archives[i], skip_unsafe=True)
        return self._open[i]

    def close(self) -> None:
        """Close the archives opened in this process."""
        for archive in self._open.values():
            archive.close()
        self._open = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getstate__(self) -> dict:
        # archives whose checked listing crosses processes go along (a worker then need not list them again)
        return {**self.__dict__, "_open": {i: a for i, a in self._open.items() if a.crosses_processes},
                "digests": None}

    def __repr__(self) -> str:
        return f"RawSource({str(self.path)!r}, files={len(self.files)}, archives={len(self.archives)})"


def _scan_folder(folder: str, prefix: str, out: list[str], folders: set[str]) -> None:
    try:
        with os.scandir(folder) as it:
            entries = list(it)
    except PermissionError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if not is_junk(f"{prefix}{entry.name}/x"):
                folders.add(prefix + entry.name)
            _scan_folder(entry.path, f"{prefix}{entry.name}/", out, folders)
        elif entry.is_file():
            out.append(prefix + entry.name)


# Folder-name tokens that mark a published split, as split codes (schema.TRAIN, VAL, TEST).
SPLIT_WORDS = (("train", 0), ("training", 0), ("val", 1), ("valid", 1), ("validation", 1), ("test", 2),
               ("testing", 2))
TRAIN_TEST_WORDS = tuple((w, c) for w, c in SPLIT_WORDS if c != 1)


@functools.lru_cache(maxsize=4096)  # every file of a folder has its folder's answer
def split_of_folder(folder: str, words: tuple[tuple[str, int], ...] = SPLIT_WORDS) -> int | None:
    """The split code the innermost folder of ``folder`` that names one stands for (``test_data``, ``Train``,
    ``validation`` ...); a folder naming two (``train_test``) counts as the later split (test before val before
    train, so no test example is trained on). Tokens are the parts of a folder name split at ``-``, ``_``, ``.`` and
    spaces, matched case-insensitively against ``words``."""
    lookup = dict(words)
    for part in reversed(folder.split("/") if folder else []):
        codes = [lookup[t] for t in re.split(r"[-_. ]+", part.lower()) if t in lookup]
        if codes:
            return max(codes)
    return None


__all__ = ["FOLDER", "RawSource", "file_digest", "is_junk", "read_file", "recorded_reads", "split_of_folder",
           "strip_archive_suffix"]
