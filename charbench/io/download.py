"""Download raw files: mirrors in order, HTTP Range resume, size and sha256 checks, atomic rename.

A file is written to ``<name>.part`` and renamed to ``<name>`` only once its size and sha256 match the manifest, so a
file under its final name is always complete. A connection cut mid-file is resumed from the ``.part`` file with an HTTP
Range request (a few times, no long back-off); a refused connection, a DNS failure or an HTTP error moves on to the
next mirror at once. A file with the right size but the wrong sha256 is kept aside as ``<name>.bad`` for inspection;
an HTML page served instead of the file is discarded.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import logging
import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

import charbench
from charbench.errors import DownloadError
from charbench.manifest import DatasetEntry, RawFile, get_entry

log = logging.getLogger(__name__)

_CHUNK = 1 << 16
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml")
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_OFFLINE_HINT = (
    "If this machine has no network, download the file(s) elsewhere and copy them into {dest}, "
    "or point `charbench prepare {name} --source DIR` at a folder or archive holding them."
)


class _Cut(Exception):
    """The connection dropped mid-file; the ``.part`` file can be resumed."""


class _MirrorFailed(Exception):
    """This URL cannot deliver the file; move on to the next mirror."""


def sha256sum(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_valid(path: Path, file: RawFile) -> bool:
    """True when ``path`` exists and matches the recorded size and sha256 (those that are known)."""
    if not path.is_file():
        return False
    if file.size is not None and path.stat().st_size != file.size:
        return False
    return file.sha256 is None or sha256sum(path) == file.sha256


def download(
    file: RawFile, dest_dir: str | os.PathLike, *, progress: bool = True, timeout: float = 30.0, retries: int = 2
) -> Path:
    """Download one raw file into ``dest_dir``, trying its URLs in order.

    Args:
        file: The manifest record of the file.
        dest_dir: Folder to write ``file.name`` into (created if needed).
        progress: Show a rich progress bar on stderr.
        timeout: Socket timeout in seconds for connecting and for each read.
        retries: How many times a connection cut mid-file is resumed, per URL.

    Returns:
        The path of the verified file. A file already there with the right checksum is returned without network use.

    Raises:
        DownloadError: Every URL failed; the message lists each URL with its reason.
    """
    dest_dir = Path(dest_dir)
    dest = dest_dir / file.name
    if _reuse_existing(dest, file):
        return dest
    if not file.urls:
        raise DownloadError(f"no download URL is known for {file.name}; copy it into {dest_dir} by hand")
    dest_dir.mkdir(parents=True, exist_ok=True)
    part = dest_dir / f"{file.name}.part"
    failures: list[tuple[str, str]] = []
    for url in file.urls:
        problem = _try_mirror(url, part, file, progress=progress, timeout=timeout, retries=retries)
        if problem is None:
            os.replace(part, dest)
            return dest
        failures.append((url, problem))
        log.warning("%s: %s", url, problem)
    lines = "\n".join(f"  - {url}: {why}" for url, why in failures)
    raise DownloadError(f"could not download {file.name} into {dest_dir}; tried:\n{lines}")


def fetch(
    name: str,
    dest_dir: str | os.PathLike,
    progress: bool = True,
    *,
    include_optional: bool = False,
    timeout: float = 30.0,
) -> list[Path]:
    """Download every raw file of a manifest dataset, skipping files already present with the right sha256.

    Args:
        name: Dataset name in data_manifest.yaml.
        dest_dir: Raw folder to fill.
        progress: Show rich progress bars.
        include_optional: Also fetch the files the manifest marks optional.
        timeout: Socket timeout in seconds.

    Returns:
        Paths of the files, in manifest order.

    Raises:
        DownloadError: A file could not be fetched (stops at the first one), or the dataset needs manual access;
            the message says which URLs were tried and how to get the files another way.
        UnknownNameError: No such dataset in the manifest.
    """
    entry = get_entry(name)
    dest_dir = Path(dest_dir)
    files = entry.files if include_optional else entry.required_files()
    manual = [f for f in files if not f.urls and not (dest_dir / f.name).is_file()]
    if manual:
        raise DownloadError(_manual_message(entry, dest_dir, manual))
    paths = []
    for file in files:
        try:
            paths.append(download(file, dest_dir, progress=progress, timeout=timeout))
        except DownloadError as exc:
            raise DownloadError(f"{exc}\n{_fallback_hint(entry, dest_dir)}") from None
    return paths


def _reuse_existing(dest: Path, file: RawFile) -> bool:
    """True when ``dest`` is already good; a bad file there is moved to ``.bad`` so it is fetched again."""
    if not dest.is_file():
        return False
    if is_valid(dest, file):
        log.info("%s already present and verified", dest)
        return True
    bad = _set_aside(dest, file)
    log.warning("%s does not match its recorded size/sha256; moved to %s and downloading again", dest, bad)
    return False


def _try_mirror(url: str, part: Path, file: RawFile, *, progress: bool, timeout: float, retries: int) -> str | None:
    """None when ``part`` now holds the verified file, else why this URL failed."""
    try:
        _fetch_url(url, part, file, progress=progress, timeout=timeout, retries=retries)
    except _MirrorFailed as exc:
        return str(exc)
    return _verify(part, file)


def _fetch_url(url: str, part: Path, file: RawFile, *, progress: bool, timeout: float, retries: int) -> None:
    cuts = 0
    while True:
        offset = part.stat().st_size if part.is_file() else 0
        try:
            _transfer(url, part, offset, file, progress=progress, timeout=timeout)
            return
        except _Cut as exc:
            cuts += 1
            if cuts > retries:
                raise _MirrorFailed(f"connection dropped {cuts} times, last: {exc}") from None
            log.warning("%s: connection dropped (%s); resuming from byte %d", url, exc, part.stat().st_size)


def _transfer(url: str, part: Path, offset: int, file: RawFile, *, progress: bool, timeout: float) -> None:
    request = Request(url, headers={"User-Agent": f"charbench/{charbench.__version__}", "Accept-Encoding": "identity"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    with _open(request, url, part, offset, file, timeout) as response:
        if response is None:  # the .part file was already complete
            return
        offset = _resume_offset(response, offset, url)
        length = response.headers.get("Content-Length")
        expected = int(length) if length and length.isdigit() else None
        total = offset + expected if expected is not None else file.size
        if file.size is not None and total is not None and total > file.size:
            raise _MirrorFailed(f"server announces {total} bytes, expected {file.size}; not downloaded")
        received = 0
        with open(part, "ab" if offset else "wb") as out, _progress(file.name, total, offset, progress) as advance:
            while chunk := _read_chunk(response, offset + received):
                out.write(chunk)
                received += len(chunk)
                advance(len(chunk))
        if expected is not None and received < expected:
            raise _Cut(f"got {offset + received} of {offset + expected} bytes")


def _read_chunk(response: http.client.HTTPResponse, position: int) -> bytes:
    try:
        return response.read(_CHUNK)
    except (http.client.HTTPException, OSError) as exc:  # reset, timeout, IncompleteRead: resumable
        raise _Cut(f"{type(exc).__name__} after {position} bytes") from None


@contextlib.contextmanager
def _open(request: Request, url: str, part: Path, offset: int, file: RawFile, timeout: float) -> Iterator:
    try:
        response = urlopen(request, timeout=timeout)
    except HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:
            if file.size is not None and offset == file.size:
                yield None
                return
            part.unlink(missing_ok=True)  # stale or oversized .part: start again
            raise _Cut("server refused to resume (HTTP 416)") from None
        raise _MirrorFailed(f"HTTP {exc.code} {exc.reason}") from None
    except URLError as exc:
        raise _MirrorFailed(_describe(exc.reason)) from None
    except (http.client.HTTPException, OSError) as exc:
        raise _MirrorFailed(_describe(exc)) from None
    with response:
        yield response


def _resume_offset(response: http.client.HTTPResponse, offset: int, url: str) -> int:
    """Offset the body starts at: ``offset`` for a 206 reply, 0 when the server ignored the Range header."""
    if not offset:
        return 0
    if response.status != 206:
        log.info("%s ignored the Range request (HTTP %d); restarting from byte 0", url, response.status)
        return 0
    match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
    if not match or int(match.group(1)) != offset:
        raise _MirrorFailed(f"bad Content-Range {response.headers.get('Content-Range')!r} for a resume at {offset}")
    return offset


def _verify(part: Path, file: RawFile) -> str | None:
    """None when the downloaded ``.part`` is good, else the reason (and the part is discarded or set aside)."""
    size = part.stat().st_size
    html = _looks_like_html(part) and not file.name.endswith((".htm", ".html"))
    if file.size is not None and size != file.size:
        part.unlink()
        kind = "an HTML page instead of the file" if html else "wrong size"
        return f"{kind}: {size} bytes, expected {file.size}; discarded"
    digest = sha256sum(part)
    if html and (file.sha256 is None or digest != file.sha256):
        part.unlink()
        return f"an HTML page instead of the file ({size} bytes, sha256 {digest}); discarded"
    if file.sha256 is None:
        log.warning(
            "no sha256 is recorded for %s: downloaded %d bytes with sha256 %s, NOT verified; record it with "
            "scripts/hash_manifest.py once you trust the file",
            file.name, size, digest,
        )  # fmt: skip
        return None
    if digest != file.sha256:
        bad = _set_aside(part, file)
        return f"sha256 {digest}, expected {file.sha256}; kept as {bad}"
    return None


def _set_aside(path: Path, file: RawFile) -> Path:
    bad = path.with_name(f"{file.name}.bad")
    os.replace(path, bad)
    return bad


def _looks_like_html(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(512).lstrip().lower()
    return head.startswith(_HTML_STARTS)


def _describe(reason: object) -> str:
    if isinstance(reason, socket.gaierror):
        return f"host name lookup failed ({reason.strerror or reason}); no network or no DNS?"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, TimeoutError):
        return "timed out"
    return str(reason) or type(reason).__name__


@contextlib.contextmanager
def _progress(name: str, total: int | None, completed: int, enabled: bool) -> Iterator:
    if not enabled:
        yield lambda n: None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns) as bar:
        task = bar.add_task(name, total=total, completed=completed)
        yield lambda n: bar.advance(task, n)


def _manual_message(entry: DatasetEntry, dest_dir: Path, files: list[RawFile]) -> str:
    names = ", ".join(f.name for f in files)
    how = f"run `{entry.access_command} -p {dest_dir}` and unpack it there" if entry.access_command else ""
    if entry.access == "kaggle":
        lead = (
            f"{entry.name} is distributed by Kaggle, which needs an account and accepting the rules ({entry.homepage})"
        )
    elif entry.access == "form":
        lead = f"{entry.name} is handed out by its publisher after a request form ({entry.homepage})"
    else:
        lead = f"no download URL is known for {entry.name}"
    steps = f"; {how}" if how else f"; obtain the files and copy them into {dest_dir}"
    return (
        f"{lead}{steps} so that it holds: {names}. "
        f"Or point `charbench prepare {entry.name} --source DIR` at a folder or archive holding them."
    )


def _fallback_hint(entry: DatasetEntry, dest_dir: Path) -> str:
    hint = _OFFLINE_HINT.format(dest=dest_dir, name=entry.name)
    if entry.access == "form":
        hint = f"The publisher hands these files out after a request form ({entry.homepage}). {hint}"
    return hint
