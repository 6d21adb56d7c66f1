"""Safe access to zip and tar archives, and one view over a folder or an archive of raw files.

Converters read members straight out of archives (through :class:`charbench.io.source.RawSource`); nothing is
extracted unless asked, and then never outside the output folder. Every entry is checked when the archive is opened:
absolute paths, ``..`` components, symlinks, hardlinks, device files and duplicate names make the whole archive
refused (an archive holding one of them was not made by the dataset's publisher, or was tampered with), or, with
``skip_unsafe``, leave that entry out and list it in ``Archive.unsafe``. Member sizes are checked against a cap before
any byte is read.
"""

from __future__ import annotations

import contextlib
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
from typing import IO, NamedTuple, Self

from charbench.errors import ArchiveError, RawDataNotFoundError

DEFAULT_MAX_MEMBER_SIZE = 512 * 1024**2
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
_DRIVE = re.compile(r"^[A-Za-z]:")
_COPY_BLOCK = 1 << 20


def is_archive(path: str | os.PathLike) -> bool:
    """True when the file name ends in a zip or tar suffix charbench reads."""
    return str(path).lower().endswith(ARCHIVE_SUFFIXES)


def normalise_member(archive: Path, name: str) -> str:
    """The entry name as a relative posix path, or ArchiveError when it is absolute or climbs with ``..``."""
    if name and "\\" not in name and "//" not in name and "/." not in "/" + name and name[0] != "/" and \
            not _DRIVE.match(name):
        return name.rstrip("/")  # already plain: no part to drop or refuse (most names; this runs per entry)
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

    crosses_processes = False  # True where a pickled copy reads in another process (open files reopen there)

    def __init__(self, path: Path, max_member_size: int, skip_unsafe: bool = False):
        self.path = path
        self.max_member_size = max_member_size
        self.skip_unsafe = skip_unsafe
        self.unsafe: list[str] = []  # entries left out as unsafe (skip_unsafe only)
        self.folders: list[str] = []  # folder entries (an archive may hold empty folders)
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

    def _folder(self, name: str) -> None:
        try:
            self.folders.append(normalise_member(self.path, name))
        except ArchiveError:
            pass  # an unsafe folder name holds nothing that is read

    def _admit(self, name: str, check, add: bool, info: object, size: int) -> None:
        """Check one entry (``check()`` raises ArchiveError for an unsafe one) and index it when ``add``; an unsafe
        entry refuses the archive, or with ``skip_unsafe`` is left out and listed."""
        try:
            check()
            if add:
                self._add(name, info, size)
        except ArchiveError:
            if not self.skip_unsafe:
                raise
            self.unsafe.append(name)

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


class _ZipEntry(NamedTuple):
    """What reading one zip entry takes (zipfile's ZipInfo costs eight times as much to send to a worker process)."""

    name: str  # as the central directory spells it: the local header must agree
    offset: int  # of the local header
    compressed: int
    size: int
    method: int
    flags: int
    crc: int


class ZipArchive(Archive):
    """A .zip file. Its checked entry table crosses to worker processes, which then read without listing it again."""

    crosses_processes = True

    def __init__(self, path: Path, max_member_size: int = DEFAULT_MAX_MEMBER_SIZE, skip_unsafe: bool = False):
        super().__init__(path, max_member_size, skip_unsafe)
        self._zip: zipfile.ZipFile | None = None  # only for entries read through zipfile (encrypted, bzip2 ...)
        self._by_offset: dict[int, zipfile.ZipInfo] = {}  # its entries, by local header offset
        self._fd: int | None = None
        try:
            with zipfile.ZipFile(path) as listing:
                infos = listing.infolist()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            raise ArchiveError(f"{path} is not a readable zip file: {exc}") from None
        for info in infos:
            entry = _ZipEntry(info.orig_filename, info.header_offset, info.compress_size, info.file_size,
                              info.compress_type, info.flag_bits, info.CRC)
            # ZipInfo.is_dir() raises IndexError on an empty name
            self._admit(info.filename, lambda info=info: self._check_type(info), not info.filename.endswith("/"),
                        entry, info.file_size)
            if info.filename.endswith("/") and info.filename.strip("/"):
                self._folder(info.filename)

    def _check_type(self, info: zipfile.ZipInfo) -> None:
        if info.filename.endswith("/"):
            normalise_member(self.path, info.filename)  # a file's name is checked as it is indexed
        # Unix mode bits ride in the high word; many writers set only permissions (no file type), meaning regular.
        file_type = stat.S_IFMT(info.external_attr >> 16)
        if file_type not in (0, stat.S_IFREG, stat.S_IFDIR):
            kind = "symlink" if file_type == stat.S_IFLNK else "special file"
            raise ArchiveError(f"unsafe entry {info.filename!r} in {self.path}: {kind}")

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip, self._by_offset = None, {}
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def read(self, member: str, max_size: int | None = None) -> bytes:
        """As :meth:`Archive.read`; stored and deflated entries are read straight from the file at their offset
        (``zipfile``'s per-entry machinery costs more than reading a small PNG), CRC checked as zipfile does."""
        entry, _ = self._lookup(member)
        limit = self._check_size(member, max_size)
        if entry.flags & 0x1 or entry.method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return super().read(member, max_size)  # encrypted, bzip2, lzma ...: zipfile's own path
        with self._reading(member):
            raw = self._raw_bytes(entry)
            if entry.method == zipfile.ZIP_STORED:
                data = raw
            else:
                inflate = zlib.decompressobj(-15)
                data = inflate.decompress(raw, limit + 1)
            if len(data) > limit or len(data) != entry.size:
                raise ArchiveError(f"entry {member!r} in {self.path} holds {len(data)} bytes, not the "
                                   f"{entry.size} its header declares")
            if zlib.crc32(data) != entry.crc:
                raise ArchiveError(f"entry {member!r} in {self.path}: CRC mismatch (the archive is damaged)")
            return data

    def _raw_bytes(self, entry: _ZipEntry) -> bytes:
        """The compressed bytes of an entry: after its local header, whose name must be the central directory's (as
        zipfile insists) and whose name and extra field lengths decide where the data starts."""
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        central = entry.name.encode("utf-8" if entry.flags & 0x800 else "cp437")
        header = os.pread(self._fd, 30 + len(central), entry.offset)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local header at offset {entry.offset}")
        name_len, extra_len = int.from_bytes(header[26:28], "little"), int.from_bytes(header[28:30], "little")
        local_flags = int.from_bytes(header[6:8], "little")
        if header[30:] != central or name_len != len(central) or (local_flags ^ entry.flags) & 0x800:
            raise zipfile.BadZipFile(f"file name in the directory and in the local header of {entry.name!r} "
                                     "differ")
        raw = os.pread(self._fd, entry.compressed, entry.offset + 30 + name_len + extra_len)
        if len(raw) != entry.compressed:
            raise zipfile.BadZipFile("entry data truncated")
        return raw

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_zip": None, "_by_offset": {}, "_fd": None}  # files reopen where it is received

    def _open_raw(self, entry: _ZipEntry) -> IO[bytes]:  # type: ignore[override]
        if self._zip is None:
            self._zip = zipfile.ZipFile(self.path)
            self._by_offset = {i.header_offset: i for i in self._zip.infolist()}
        info = self._by_offset.get(entry.offset)
        if info is None:
            raise ArchiveError(f"entry {entry.name!r} in {self.path} is gone: the archive changed after it was listed")
        # ZipExtFile stops at the declared size and checks the CRC, so a lying header cannot inflate the output.
        return self._zip.open(info)


class TarArchive(Archive):
    """A .tar file, plain or compressed with gzip, bzip2 or xz."""

    def __init__(self, path: Path, max_member_size: int = DEFAULT_MAX_MEMBER_SIZE, skip_unsafe: bool = False):
        super().__init__(path, max_member_size, skip_unsafe)
        try:
            self._tar = tarfile.open(path, "r:*")  # noqa: SIM115 - lives as long as the Archive
        except (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            raise ArchiveError(f"{path} is not a readable tar file: {exc}") from None
        try:
            for info in self._tar.getmembers():
                self._admit(info.name, lambda info=info: self._check_type(info), info.isreg(), info, info.size)
                if info.isdir():
                    self._folder(info.name)
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


def open_archive(path: str | os.PathLike, *, max_member_size: int = DEFAULT_MAX_MEMBER_SIZE,
                 skip_unsafe: bool = False) -> Archive:
    """Open a .zip or .tar(.gz/.bz2/.xz) archive after checking every entry.

    Args:
        path: The archive file; its type is taken from its content, not its name.
        max_member_size: Default cap, in bytes, for a single entry read with :meth:`Archive.read`.
        skip_unsafe: Leave unsafe entries out (listed in ``Archive.unsafe``) instead of refusing the archive.

    Raises:
        RawDataNotFoundError: The file does not exist.
        ArchiveError: Not a zip or tar file, or an entry is unsafe (the message names archive and entry).
    """
    path = Path(path)
    if not path.is_file():
        raise RawDataNotFoundError(f"archive {path} not found")
    if zipfile.is_zipfile(path):
        return ZipArchive(path, max_member_size, skip_unsafe)
    if quiet_is_tar(path):
        return TarArchive(path, max_member_size, skip_unsafe)
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


def quiet_is_tar(path: Path) -> bool:
    """tarfile.is_tarfile, False instead of an exception for an unreadable file."""
    try:
        return tarfile.is_tarfile(path)
    except (OSError, EOFError, zlib.error, lzma.LZMAError):
        return False


__all__ = [
    "ARCHIVE_SUFFIXES", "Archive", "TarArchive", "ZipArchive", "is_archive", "normalise_member", "open_archive",
    "quiet_is_tar", "safe_extract",
]  # fmt: skip
