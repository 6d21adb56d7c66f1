"""The dataset catalogue: data_manifest.yaml loaded and validated into dataclasses.

The manifest lists every dataset family charbench knows: raw format, where the raw files come from (URLs in mirror
order, sha256 and size where known), license, citation, class count and native splits. Checksums in it are written by
``scripts/hash_manifest.py`` from real files or imported from published checksum lists, never typed by hand.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

import charbench
from charbench import paths
from charbench.errors import CharbenchError, FormatError, UnknownNameError

MANIFEST_NAME = "data_manifest.yaml"
FORMATS = frozenset({"idx", "npz", "tiff_tree", "unipen", "kaggle_pages", "png_tree", "omniglot_tree"})
ACCESS = frozenset({"direct", "kaggle", "form"})
_ARCHIVE_SUFFIXES = (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".zip")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ENTRY_KEYS = {
    "name", "title", "format", "access", "access_command", "raw_name", "homepage", "license", "citation",
    "num_classes", "splits", "notes", "files",
}  # fmt: skip
_FILE_KEYS = {"name", "role", "urls", "sha256", "size", "checksum_source", "members", "optional"}


@dataclass(frozen=True)
class RawFile:
    """One raw file of a dataset, as the publisher distributes it.

    Attributes:
        name: File name in the raw folder (no directories).
        urls: Download URLs, tried in order (first the official source, then mirrors). Empty for manual access.
        sha256: Lower-case hex digest of the whole file, or None where no trusted value is known.
        size: Size in bytes, or None where unknown.
        role: What the file holds for the converter (``train_images``, ``class_table``, ``archive`` ...).
        checksum_source: Where ``sha256`` and ``size`` come from (a published list or a real file).
        members: For an archive, the entries inside it this dataset uses, by role (``train_images`` ...).
        optional: True when ``charbench fetch`` skips the file unless asked for all files.
    """

    name: str
    urls: tuple[str, ...]
    sha256: str | None
    size: int | None
    role: str
    checksum_source: str | None = None
    members: dict[str, str] = field(default_factory=dict)
    optional: bool = False


@dataclass(frozen=True)
class DatasetEntry:
    """One dataset of the catalogue.

    Attributes:
        name: Catalogue key (``mnist``, ``emnist-letters`` ...).
        title: Human-readable title.
        format: Raw format, one of :data:`FORMATS`.
        homepage: The publisher's page.
        license: License of the data as the publisher states it.
        citation: The reference to cite.
        num_classes: Number of classes of the dataset's label table.
        splits: Native split name to number of examples (None where unknown); empty when there is no official split.
        files: The raw files.
        notes: Quirks and access instructions.
        access: ``direct`` (plain URLs), ``kaggle`` (Kaggle account) or ``form`` (publisher's request form).
        access_command: Command that fetches the files where charbench cannot (``kaggle competitions download ...``).
        raw_name: Folder under ``raw/`` holding the files; datasets sharing one archive (EMNIST) share it.
    """

    name: str
    title: str
    format: str
    homepage: str
    license: str
    citation: str
    num_classes: int
    splits: dict[str, int | None]
    files: tuple[RawFile, ...]
    notes: str = ""
    access: str = "direct"
    access_command: str | None = None
    raw_name: str = field(default="")

    def file(self, name: str) -> RawFile:
        """The raw file called ``name``; raises UnknownNameError naming the files there are."""
        for raw in self.files:
            if raw.name == name:
                return raw
        known = ", ".join(f.name for f in self.files)
        raise UnknownNameError(f"dataset {self.name!r} has no raw file {name!r}; its files are: {known}")

    def role_name(self, role: str) -> str | None:
        """The file name of the raw file, or of the archive member, that plays ``role`` (None when none does)."""
        for raw in self.files:
            if raw.role == role:
                return raw.name
            if role in raw.members:
                return PurePosixPath(raw.members[role]).name
        return None

    def roles(self) -> set[str]:
        """Every role a file or an archive member of this dataset plays."""
        return {f.role for f in self.files} | {r for f in self.files for r in f.members}

    def required_files(self) -> tuple[RawFile, ...]:
        """The files ``charbench fetch`` downloads by default (every file not marked optional)."""
        return tuple(f for f in self.files if not f.optional)


def manifest_path() -> Path:
    """The manifest file: inside the installed package first, else at the repository root (editable installs)."""
    package = Path(charbench.__file__).parent
    for candidate in (package / MANIFEST_NAME, package.parent / MANIFEST_NAME):
        if candidate.is_file():
            return candidate
    raise CharbenchError(
        f"{MANIFEST_NAME} not found in {package} or {package.parent}; reinstall charbench or run from a checkout"
    )


@functools.cache
def load_manifest(path: str | os.PathLike | None = None) -> dict[str, DatasetEntry]:
    """Load and validate the manifest (cached per path).

    Args:
        path: Manifest file to read; the one shipped with charbench when None.

    Returns:
        Entries keyed by dataset name, in manifest order.

    Raises:
        FormatError: The file is not valid YAML or an entry breaks the schema; the message names file, entry, field.
    """
    source = Path(path) if path is not None else manifest_path()
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise FormatError(f"{source} is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(data.get("datasets"), list):
        raise FormatError(f"{source}: expected a mapping with 'version: 1' and a 'datasets' list")
    entries: dict[str, DatasetEntry] = {}
    for index, raw in enumerate(data["datasets"]):
        entry = _parse_entry(raw, f"{source}: datasets[{index}]")
        if entry.name in entries:
            raise FormatError(f"{source}: dataset {entry.name!r} is listed twice")
        entries[entry.name] = entry
    return entries


def get_entry(name: str) -> DatasetEntry:
    """The manifest entry for ``name``; ``fashion_mnist`` and ``emnist/letters`` spellings are accepted too.

    Raises:
        UnknownNameError: No such dataset; the message suggests close matches.
    """
    entries = load_manifest()
    key = name.strip().lower().replace("_", "-").replace("/", "-")
    if key in entries:
        return entries[key]
    close = difflib.get_close_matches(key, entries, n=3)
    hint = f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(entries)}"
    raise UnknownNameError(f"unknown dataset {name!r} in {MANIFEST_NAME}; {hint}")


def raw_dir_for(name: str, root: str | os.PathLike | None = None) -> Path:
    """Default raw folder of a dataset: ``paths.raw_dir`` of its ``raw_name`` (shared by the EMNIST splits)."""
    return paths.raw_dir(get_entry(name).raw_name, root)


def raw_status(entry: DatasetEntry, raw_dir: Path) -> str:
    """``present`` (every required file there), ``partial`` (some raw file there) or ``missing``.

    An archive also counts as present when a folder named like it without the suffix is there (unpacked by hand).
    Presence is not verification: ``charbench fetch`` re-checks sha256.
    """
    found = [_is_present(raw_dir, f.name) for f in entry.files]
    required = [ok for ok, f in zip(found, entry.files) if not f.optional]
    if required and all(required):
        return "present"
    return "partial" if any(found) else "missing"


def prepared_status(name: str, root: str | os.PathLike | None = None) -> bool:
    """True when ``prepared_root(root)/<name>/index.json`` exists."""
    return (paths.prepared_root(root) / name / "index.json").is_file()


def _is_present(raw_dir: Path, name: str) -> bool:
    if (raw_dir / name).is_file():
        return True
    for suffix in _ARCHIVE_SUFFIXES:
        if name.endswith(suffix):
            return (raw_dir / name[: -len(suffix)]).is_dir()
    return False


def _parse_entry(raw: Any, where: str) -> DatasetEntry:
    if not isinstance(raw, dict):
        raise FormatError(f"{where}: expected a mapping, got {type(raw).__name__}")
    where = f"{where} ({raw.get('name', '?')})"
    _check_keys(raw, _ENTRY_KEYS, {"notes", "access_command", "raw_name"}, where)
    for key in ("name", "title", "homepage", "license", "citation"):
        _require(isinstance(raw[key], str) and raw[key].strip(), where, key, "a non-empty string")
    _require(raw["format"] in FORMATS, where, "format", f"one of {sorted(FORMATS)}")
    access = raw.get("access")
    _require(access in ACCESS, where, "access", f"one of {sorted(ACCESS)}")
    _require(_is_count(raw["num_classes"]) and raw["num_classes"] > 0, where, "num_classes", "a positive integer")
    splits = raw["splits"]
    valid_splits = isinstance(splits, dict) and all(
        isinstance(k, str) and (v is None or _is_count(v)) for k, v in splits.items()
    )
    _require(valid_splits, where, "splits", "a mapping of split name to example count or null")
    _require(isinstance(raw["files"], list) and raw["files"], where, "files", "a non-empty list")
    files = tuple(_parse_file(f, f"{where}: files[{i}]") for i, f in enumerate(raw["files"]))
    command = raw.get("access_command")
    _require(command is None or isinstance(command, str), where, "access_command", "a string or null")
    _require(access != "kaggle" or bool(command), where, "access_command", "the command to run for kaggle access")
    if access == "direct":
        for f in files:
            _require(bool(f.urls), where, f"files[{f.name}].urls", "at least one URL for direct access")
    raw_name = raw.get("raw_name") or raw["name"]
    _require(isinstance(raw_name, str) and "/" not in raw_name, where, "raw_name", "a folder name")
    return DatasetEntry(
        name=raw["name"], title=raw["title"], format=raw["format"], homepage=raw["homepage"],
        license=raw["license"], citation=raw["citation"], num_classes=raw["num_classes"], splits=dict(splits),
        files=files, notes=raw.get("notes") or "", access=access, access_command=command, raw_name=raw_name,
    )  # fmt: skip


def _parse_file(raw: Any, where: str) -> RawFile:
    _require(isinstance(raw, dict), where, "", "a mapping")
    _check_keys(raw, _FILE_KEYS, {"members", "optional", "checksum_source"}, where)
    name = raw["name"]
    valid_name = isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and "\\" not in name
    _require(valid_name, where, "name", "a plain file name")
    urls = raw["urls"]
    valid_urls = isinstance(urls, list) and all(
        isinstance(u, str) and u.startswith(("http://", "https://")) for u in urls
    )
    _require(valid_urls, where, "urls", "a list of http(s) URLs")
    sha = raw["sha256"]
    _require(sha is None or (isinstance(sha, str) and _SHA256.fullmatch(sha)), where, "sha256", "64 hex digits or null")
    _require(raw["size"] is None or _is_count(raw["size"]), where, "size", "a byte count or null")
    source = raw.get("checksum_source")
    _require(source is None or isinstance(source, str), where, "checksum_source", "a string or null")
    _require(sha is None or bool(source), where, "checksum_source", "where the sha256 comes from")
    members = raw.get("members") or {}
    valid_members = isinstance(members, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in members.items())
    _require(valid_members, where, "members", "a mapping of role to entry path")
    _require(isinstance(raw.get("optional", False), bool), where, "optional", "true or false")
    _require(isinstance(raw["role"], str) and raw["role"], where, "role", "a non-empty string")
    return RawFile(
        name=name, urls=tuple(urls), sha256=sha, size=raw["size"], role=raw["role"], checksum_source=source,
        members=dict(members), optional=raw.get("optional", False),
    )  # fmt: skip


def _check_keys(raw: dict, allowed: set[str], optional: set[str], where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise FormatError(f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    missing = sorted(allowed - optional - set(raw))
    if missing:
        raise FormatError(f"{where}: missing field(s) {', '.join(missing)}")


def _require(ok: object, where: str, key: str, expected: str) -> None:
    if not ok:
        raise FormatError(f"{where}: field {key!r} must be {expected}")


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
