"""Safe access to zip and tar archives, and one view over a folder or an archive of raw files.

Converters read members straight out of archives; nothing is extracted unless asked, and then never outside the
output folder. Every entry is checked when the archive is opened: absolute paths, ``..`` components, symlinks,
hardlinks and device files make the whole archive refused (an archive holding one of them was not made by the
dataset's publisher, or was tampered with). Member sizes are checked against a cap before any byte is read.
"""

from __future__ import annotations

import contextlib
import fnmatch
import lzma
import os
import re
import stat
import tarfile
import zipfile
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Self

from charbench.errors import ArchiveError, FormatError, RawDataNotFoundError

DEFAULT_MAX_MEMBER_SIZE = 512 * 1024**2
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
_JUNK_NAMES = frozenset({".DS_Store", "Thumbs.db"})
_DRIVE = re.compile(r"^[A-Za-z]:")
_COPY_BLOCK = 1 << 20


def is_junk(path: str | os.PathLike) -> bool:
    """True for operating-system litter: ``.DS_Store``, ``Thumbs.db``, ``__MACOSX/`` and ``._*`` AppleDouble files."""
    path = str(path).replace("\\", "/").rstrip("/")  # plain strings: called once per listed file
    name = path.rpartition("/")[2]
    return name.startswith("._") or name in _JUNK_NAMES or ("__MACOSX" in path and "__MACOSX" in path.split("/"))


def is_archive(path: str | os.PathLike) -> bool:
    """True when the file name ends in a zip or tar suffix charbench reads."""
    return str(path).lower().endswith(ARCHIVE_SUFFIXES)


def normalise_member(archive: Path, name: str) -> str:
    """The entry name as a relative posix path, or ArchiveError when it is absolute or climbs with ``..``."""
    posix = name.replace("\\", "/")
    if posix.startswith("/") or _DRIVE.match(posix):
        raise ArchiveError(f"unsafe entry {name!r} in {archive}: absolute path")
    parts = [p for p in posix.split("/") if p not in ("", ".")]
    if parts and _DRIVE.match(parts[0]):  # "./C:/x" normalises to "C:/x", which this function refuses
        raise ArchiveError(f"unsafe entry {name!r} in {archive}: absolute path")
    if ".." in parts:
        raise ArchiveError(f"unsafe entry {name!r} in {archive}: '..' component")
    if not parts:
        raise ArchiveError(f"unsafe entry {name!r} in {archive}: empty path")
    return "/".join(parts)


class Archive(ABC):
    """A zip or tar file whose regular-file entries can be listed and read; use :func:`open_archive`."""

    def __init__(self, path: Path, max_member_size: int):
        self.path = path
        self.max_member_size = max_member_size
        self._index: dict[str, tuple[object, int]] = {}  # member -> (zip/tar info, declared size)

    def members(self) -> list[str]:
        """Regular-file entries as normalised posix paths, in archive order (junk included; see :func:`is_junk`)."""
        return list(self._index)

    def size(self, member: str) -> int:
        """Declared uncompressed size of ``member`` in bytes."""
        return self._lookup(member)[1]

    def read(self, member: str, max_size: int | None = None) -> bytes:
        """The bytes of ``member``, refused before reading when its declared size exceeds the cap.

        Args:
            member: Normalised entry name, as :meth:`members` returns it.
            max_size: Cap in bytes; the archive's ``max_member_size`` when None.

        Raises:
            ArchiveError: Unknown entry, size over the cap, or a corrupt entry.
        """
        info, _ = self._lookup(member)
        limit = self._check_size(member, max_size)
        with self._reading(member), self._open_raw(info) as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:
            raise ArchiveError(f"entry {member!r} in {self.path} holds more than its declared size allows")
        return data

    def extract_member(self, member: str, target: Path, max_size: int | None = None) -> None:
        """Stream ``member`` into ``target`` (the caller checked the target path), with the same size cap as read."""
        info, _ = self._lookup(member)
        limit = self._check_size(member, max_size)
        written = 0
        with self._reading(member), self._open_raw(info) as src, open(target, "wb") as dst:
            while block := src.read(_COPY_BLOCK):
                written += len(block)
                if written > limit:
                    raise ArchiveError(f"entry {member!r} in {self.path} holds more than its declared size allows")
                dst.write(block)

    def close(self) -> None:
        """Close the underlying file."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _lookup(self, member: str) -> tuple[object, int]:
        try:
            return self._index[member]
        except KeyError:
            raise ArchiveError(f"no regular-file entry {member!r} in {self.path}") from None

    def _check_size(self, member: str, max_size: int | None) -> int:
        limit = self.max_member_size if max_size is None else max_size
        declared = self.size(member)
        if declared > limit:
            raise ArchiveError(
                f"entry {member!r} in {self.path} declares {declared} bytes, over the {limit}-byte cap; "
                "refusing to read it (raise max_member_size if the archive is trusted)"
            )
        return limit

    def _add(self, name: str, info: object, size: int) -> None:
        member = normalise_member(self.path, name)
        if member in self._index:
            raise ArchiveError(f"entry {member!r} appears twice in {self.path}")
        self._index[member] = (info, size)

    @contextlib.contextmanager
    def _reading(self, member: str) -> Iterator[None]:
        # Corrupt data surfaces mid-read (CRC mismatch, truncated stream), not only on open.
        try:
            yield
        except (
            zipfile.BadZipFile,
            tarfile.TarError,
            zlib.error,
            lzma.LZMAError,
            RuntimeError,
            OSError,
            EOFError,
            ValueError,
        ) as exc:  # ValueError: a local-header name that is not the utf-8 it claims
            raise ArchiveError(f"cannot read entry {member!r} in {self.path}: {exc}") from None

    @abstractmethod
    def _open_raw(self, info: object) -> IO[bytes]: ...


class ZipArchive(Archive):
    """A .zip file."""

    def __init__(self, path: Path, max_member_size: int = DEFAULT_MAX_MEMBER_SIZE):
        super().__init__(path, max_member_size)
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            raise ArchiveError(f"{path} is not a readable zip file: {exc}") from None
        try:
            for info in self._zip.infolist():
                self._check_type(info)
                if not info.filename.endswith("/"):  # ZipInfo.is_dir() raises IndexError on an empty name
                    self._add(info.filename, info, info.file_size)
        except ArchiveError:
            self._zip.close()
            raise

    def _check_type(self, info: zipfile.ZipInfo) -> None:
        normalise_member(self.path, info.filename)
        # Unix mode bits ride in the high word; many writers set only permissions (no file type), meaning regular.
        file_type = stat.S_IFMT(info.external_attr >> 16)
        if file_type not in (0, stat.S_IFREG, stat.S_IFDIR):
            kind = "symlink" if file_type == stat.S_IFLNK else "special file"
            raise ArchiveError(f"unsafe entry {info.filename!r} in {self.path}: {kind}")

    def close(self) -> None:
        self._zip.close()

    def _open_raw(self, info: object) -> IO[bytes]:
        # ZipExtFile stops at the declared size and checks the CRC, so a lying header cannot inflate the output.
        return self._zip.open(info)  # type: ignore[arg-type]


class TarArchive(Archive):
    """A .tar file, plain or compressed with gzip, bzip2 or xz."""

    def __init__(self, path: Path, max_member_size: int = DEFAULT_MAX_MEMBER_SIZE):
        super().__init__(path, max_member_size)
        try:
            self._tar = tarfile.open(path, "r:*")  # noqa: SIM115 - lives as long as the Archive
        except (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            raise ArchiveError(f"{path} is not a readable tar file: {exc}") from None
        try:
            for info in self._tar.getmembers():
                self._check_type(info)
                if info.isreg():
                    self._add(info.name, info, info.size)
        except (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            self._tar.close()
            raise ArchiveError(f"{path} is a damaged tar file: {exc}") from None
        except ArchiveError:
            self._tar.close()
            raise

    def _check_type(self, info: tarfile.TarInfo) -> None:
        normalise_member(self.path, info.name)
        if info.issym() or info.islnk():
            kind = "symlink" if info.issym() else "hardlink"
            raise ArchiveError(f"unsafe entry {info.name!r} in {self.path}: {kind} to {info.linkname!r}")
        if not (info.isreg() or info.isdir()):
            raise ArchiveError(f"unsafe entry {info.name!r} in {self.path}: device, fifo or other special file")

    def close(self) -> None:
        self._tar.close()

    def _open_raw(self, info: object) -> IO[bytes]:
        handle = self._tar.extractfile(info)  # type: ignore[arg-type]
        if handle is None:
            raise ArchiveError(f"entry {info!r} in {self.path} is not a regular file")
        return handle


def open_archive(path: str | os.PathLike, *, max_member_size: int = DEFAULT_MAX_MEMBER_SIZE) -> Archive:
    """Open a .zip or .tar(.gz/.bz2/.xz) archive after checking every entry.

    Args:
        path: The archive file; its type is taken from its content, not its name.
        max_member_size: Default cap, in bytes, for a single entry read with :meth:`Archive.read`.

    Raises:
        RawDataNotFoundError: The file does not exist.
        ArchiveError: Not a zip or tar file, or an entry is unsafe (the message names archive and entry).
    """
    path = Path(path)
    if not path.is_file():
        raise RawDataNotFoundError(f"archive {path} not found")
    if zipfile.is_zipfile(path):
        return ZipArchive(path, max_member_size)
    try:
        is_tar = tarfile.is_tarfile(path)
    except (OSError, EOFError, zlib.error, lzma.LZMAError):
        is_tar = False
    if is_tar:
        return TarArchive(path, max_member_size)
    raise ArchiveError(f"{path} is neither a zip nor a tar archive")


def safe_extract(
    archive_path: str | os.PathLike, dest: str | os.PathLike, *, max_member_size: int = DEFAULT_MAX_MEMBER_SIZE
) -> list[Path]:
    """Extract every regular file of an archive under ``dest``, and never anywhere else.

    All entries are checked before anything is written; a target that would resolve outside ``dest`` (including
    through a symlink already inside ``dest``) is refused.

    Returns:
        The extracted files, in archive order.

    Raises:
        ArchiveError: An unsafe or oversized entry; nothing is written in that case.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    written = []
    with open_archive(archive_path, max_member_size=max_member_size) as archive:
        plan = []
        for member in archive.members():
            target = (root / member).resolve()
            if not target.is_relative_to(root) or target == root:
                raise ArchiveError(f"entry {member!r} in {archive.path} would be written outside {dest}")
            if archive.size(member) > max_member_size:
                raise ArchiveError(
                    f"entry {member!r} in {archive.path} declares {archive.size(member)} bytes, "
                    f"over the {max_member_size}-byte cap; nothing was extracted"
                )
            plan.append((member, target))
        for member, target in plan:
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                archive.extract_member(member, target)
            except OSError as exc:
                raise ArchiveError(f"cannot extract {member!r} from {archive.path} to {target}: {exc}") from None
            written.append(target)
    return written


class SourceTree:
    """A folder or a zip/tar archive of raw files, seen the same way by converters.

    Attributes:
        path: The folder or archive.
        name: The folder name, or the archive name without its archive suffix.
        junk_count: How many junk files (see :func:`is_junk`) were left out of :meth:`files`.
    """

    def __init__(self, path: Path, files: list[str], junk_count: int, archive: Archive | None):
        self.path = path
        self.name = _strip_archive_suffix(path.name)
        self.junk_count = junk_count
        self._files = files
        self._archive = archive

    @classmethod
    def open(cls, path: str | os.PathLike, *, max_member_size: int = DEFAULT_MAX_MEMBER_SIZE) -> SourceTree:
        """Open a folder or an archive file.

        Raises:
            RawDataNotFoundError: ``path`` does not exist.
            FormatError: ``path`` is a file but not a zip or tar archive.
            ArchiveError: The archive holds an unsafe entry.
        """
        path = Path(path)
        if path.is_dir():
            listed = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())
            archive = None
        elif path.is_file():
            if not (is_archive(path) or zipfile.is_zipfile(path) or _quiet_is_tar(path)):
                raise FormatError(f"{path} is a file but not a zip or tar archive; give a folder or an archive")
            archive = open_archive(path, max_member_size=max_member_size)
            listed = sorted(archive.members())
        else:
            raise RawDataNotFoundError(f"raw source {path} not found")
        files = [f for f in listed if not is_junk(f)]
        return cls(path, files, len(listed) - len(files), archive)

    def files(self, pattern: str | None = None) -> list[str]:
        """Sorted relative posix paths of the regular files, junk excluded.

        Args:
            pattern: fnmatch pattern on the relative path; ``*`` also matches ``/``, so ``*.png`` finds PNGs at any
                depth.
        """
        if pattern is None:
            return list(self._files)
        return [f for f in self._files if fnmatch.fnmatchcase(f, pattern)]

    def read_bytes(self, rel: str) -> bytes:
        """The bytes of one file, by its relative path as :meth:`files` returns it."""
        if self._archive is not None:
            return self._archive.read(normalise_member(self.path, rel))
        member = normalise_member(self.path, rel)
        target = self.path / member
        if not target.is_file():
            raise RawDataNotFoundError(f"{member} not found in {self.path}")
        return target.read_bytes()

    def close(self) -> None:
        """Close the archive, if any."""
        if self._archive is not None:
            self._archive.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SourceTree({str(self.path)!r}, files={len(self._files)}, junk={self.junk_count})"


def _strip_archive_suffix(name: str) -> str:
    lower = name.lower()
    for suffix in sorted(ARCHIVE_SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _quiet_is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except (OSError, EOFError, zlib.error, lzma.LZMAError):
        return False


__all__ = [
    "Archive", "SourceTree", "TarArchive", "ZipArchive", "is_archive", "is_junk", "normalise_member", "open_archive",
    "safe_extract",
]  # fmt: skip
