"""Class-folder trees (``<class>/<...>/<file>``) in a folder or an archive, listed against a layout of name patterns.

A :class:`Layout` names one regular expression per path level, outermost first, the last one for the file name
(Omniglot: ``images_background / <Alphabet> / characterNN / NNNN_DD.png``; Kuzushiji-Kanji: ``U+XXXX / <id>.png``).
The layout is matched against the *last* levels of each path, so wrapper folders above the tree (``omniglot/python/``)
do not matter, and the tree's own name is put in front of every path so that a source pointed at ``images_background``
itself, or a zip of its content without the top folder, matches too. Named groups of the patterns become the fields
of each :class:`TreeFile`. Files with a wanted suffix that do not fit the layout are reported with the reason.

Zip entries that would escape an extraction folder (absolute paths, ``..``, links) can be skipped and counted rather
than refusing the whole archive (:func:`open_tree` with ``skip_unsafe=True``); nothing is ever extracted here, the
remaining entries are read straight from the archive.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from charbench.errors import ArchiveError
from charbench.io.archive import DEFAULT_MAX_MEMBER_SIZE, SourceTree, ZipArchive, is_junk

MAX_EXAMPLES = 20  # skipped paths kept for the summary, per listing


@dataclass(frozen=True)
class Level:
    """One path level: a regular expression matched against the whole name, and what it means to a user."""

    pattern: str  # full-match regex; named groups become TreeFile fields
    what: str  # e.g. "a characterNN folder", "an NNNN_DD.png file name": used in skip reasons


@dataclass(frozen=True)
class Layout:
    """The levels of a class-folder tree, outermost first; the last level matches file names."""

    levels: tuple[Level, ...]
    suffixes: tuple[str, ...]  # only files ending in one of these (case-insensitive) are considered at all

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", tuple(re.compile(lv.pattern) for lv in self.levels))

    def wants(self, path: str) -> bool:
        """True when ``path`` has one of the layout's suffixes."""
        return path.lower().endswith(tuple(s.lower() for s in self.suffixes))

    def match(self, parts: list[str]) -> dict[str, str] | str:
        """Fields of a path (its components) or, when it does not fit, the reason as a short phrase."""
        depth = len(self.levels)
        if len(parts) < depth:
            return f"outside the layout (fewer than {depth} path levels)"
        fields: dict[str, str] = {}
        # innermost first: the most specific mismatch is the most useful message
        for i in reversed(range(depth)):
            m = self._compiled[i].fullmatch(parts[len(parts) - depth + i])
            if m is None:
                return f"not {self.levels[i].what}" if i == depth - 1 else f"not in {self.levels[i].what}"
            fields.update({k: v for k, v in m.groupdict().items() if v is not None})
        return fields


@dataclass(frozen=True)
class TreeFile:
    path: str  # relative posix path inside the SourceTree, as its read_bytes takes it
    fields: dict[str, str]  # named groups of the layout's patterns


@dataclass
class Listing:
    """What :func:`list_tree` found: matching files, and the rest counted by reason."""

    files: list[TreeFile] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)  # "path: reason" of the first few skipped files

    def skip(self, path: str, reason: str) -> None:
        """Count one left-out file under ``reason`` (and keep it as an example while there is room)."""
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(f"{path}: {reason}")

    def merge(self, other: Listing, where: str = "") -> None:
        """Add another listing's skip counts and examples (prefixed with ``where``, e.g. the archive name)."""
        for reason, n in other.skipped.items():
            self.skipped[reason] = self.skipped.get(reason, 0) + n
        room = max(0, MAX_EXAMPLES - len(self.examples))
        self.examples += [f"{where}{e}" for e in other.examples[:room]]


def list_tree(tree: SourceTree, layout: Layout, *, prefix: str | None = None) -> Listing:
    """Match every file of ``tree`` with a wanted suffix against ``layout``.

    Args:
        tree: A folder or an archive (junk such as ``__MACOSX/`` and ``.DS_Store`` is already left out).
        layout: The levels to match, innermost last.
        prefix: Path put in front of every file before matching; ``tree.name`` when None (so a tree pointed at
            ``images_background`` itself still shows its set name). Pass ``""`` for none.

    Returns:
        A :class:`Listing` whose files keep the tree's sorted order.
    """
    prefix = tree.name if prefix is None else prefix
    listing = Listing()
    for rel in tree.files():
        if not layout.wants(rel):
            continue
        parts = ([prefix] if prefix else []) + rel.split("/")
        found = layout.match(parts)
        if isinstance(found, str):
            listing.skip(rel, f"{layout.suffixes[0]} file {found}")
        else:
            listing.files.append(TreeFile(rel, found))
    return listing


class _SkippingZip(ZipArchive):
    """A zip whose unsafe entries (absolute, ``..``, links, duplicates) are left out and listed in ``unsafe``.

    It relies on ZipArchive's two per-entry hooks, ``_check_type`` and ``_add``, turning their refusals into skips.
    """

    def __init__(self, path: Path, max_member_size: int):
        self.unsafe: list[str] = []
        super().__init__(path, max_member_size)

    def _check_type(self, info: zipfile.ZipInfo) -> None:
        try:
            super()._check_type(info)
        except ArchiveError:
            self.unsafe.append(info.filename)

    def _add(self, name: str, *args: object) -> None:
        if self.unsafe and self.unsafe[-1] == name:
            return  # refused by _check_type just before
        try:
            super()._add(name, *args)
        except ArchiveError:
            self.unsafe.append(name)


def open_tree(
    path: str | Path, *, skip_unsafe: bool = False, max_member_size: int = DEFAULT_MAX_MEMBER_SIZE
) -> tuple[SourceTree, list[str]]:
    """Open a folder or archive as a :class:`SourceTree`, optionally skipping unsafe zip entries.

    Args:
        path: Folder, zip or tar file.
        skip_unsafe: For zips, leave entries with an absolute or ``..`` path, links and duplicate names out (and
            return them) instead of refusing the archive. Tar archives are always checked strictly.
        max_member_size: Cap on one entry's size in bytes.

    Returns:
        The tree, and the names of the unsafe entries that were left out (empty unless ``skip_unsafe``).

    Raises:
        RawDataNotFoundError: ``path`` does not exist.
        ArchiveError: An unsafe entry (strict) or an unreadable archive.
    """
    path = Path(path)
    if not (skip_unsafe and path.is_file() and zipfile.is_zipfile(path)):
        return SourceTree.open(path, max_member_size=max_member_size), []
    archive = _SkippingZip(path, max_member_size)
    listed = sorted(archive.members())
    files = [f for f in listed if not is_junk(f)]
    return SourceTree(path, files, len(listed) - len(files), archive), list(archive.unsafe)
