"""Class-folder trees (``<class>/<...>/<file>``) in a raw source, listed against a layout of name patterns.

A :class:`Layout` names one regular expression per path level, outermost first, the last one for the file name
(Omniglot: ``images_background / <Alphabet> / characterNN / NNNN_DD.png``; Kuzushiji-Kanji: ``U+XXXX / <id>.png``).
The layout is matched against the *last* levels of each path, so wrapper folders above the tree (``omniglot/python/``)
do not matter, and the name of the folder or archive a file is listed under is put in front of its path, so that a
source pointed at ``images_background`` itself, or a zip of its content without the top folder, matches too. Named
groups of the patterns become the fields of each :class:`TreeFile`. Files with a wanted suffix that do not fit the
layout are returned with the reason, for the converter to count as skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from charbench.io.source import RawSource


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
        object.__setattr__(self, "_lower", tuple(s.lower() for s in self.suffixes))
        object.__setattr__(self, "_folders", {})  # folder levels -> their fields or reason: files share folders

    def wants(self, path: str) -> bool:
        """True when ``path`` has one of the layout's suffixes."""
        return path.lower().endswith(self._lower)

    def match(self, parts: list[str]) -> dict[str, str] | str:
        """Fields of a path (its components) or, when it does not fit, the reason as a short phrase."""
        depth = len(self.levels)
        if len(parts) < depth:
            return f"outside the layout (fewer than {depth} path levels)"
        # innermost first: the most specific mismatch is the most useful message
        m = self._compiled[-1].fullmatch(parts[-1])
        if m is None:
            return f"not {self.levels[-1].what}"
        key = tuple(parts[len(parts) - depth:-1])
        if (folders := self._folders.get(key)) is None:
            folders = self._folders[key] = self._match_folders(key)
        if isinstance(folders, str):
            return folders
        return {**{k: v for k, v in m.groupdict().items() if v is not None}, **folders}

    def _match_folders(self, names: tuple[str, ...]) -> dict[str, str] | str:
        fields: dict[str, str] = {}
        for i in reversed(range(len(names))):
            m = self._compiled[i].fullmatch(names[i])
            if m is None:
                return f"not in {self.levels[i].what}"
            fields.update({k: v for k, v in m.groupdict().items() if v is not None})
        return fields


@dataclass(frozen=True)
class TreeFile:
    path: str  # relative posix path in the RawSource, as its read takes it
    fields: dict[str, str]  # named groups of the layout's patterns


def list_tree(source: RawSource, layout: Layout, *, prefixed: bool = True,
              files: list[str] | None = None) -> tuple[list[TreeFile], list[tuple[str, str]]]:
    """Match every file of ``source`` (or of ``files``) with a wanted suffix against ``layout``.

    Args:
        source: A folder or an archive (junk such as ``__MACOSX/`` and ``.DS_Store`` is already left out).
        layout: The levels to match, innermost last.
        prefixed: Put the name of the folder or archive each file is listed under in front of its path first.
        files: The paths to consider (default: all of the source's).

    Returns:
        The matching files in listing order, and ``(path, reason)`` of the files with a wanted suffix that do not fit.
    """
    matched, misfits = [], []
    roots: dict[int, list[str]] = {}  # the name each root puts in front of its paths
    for rel in source.files if files is None else files:
        if not layout.wants(rel):
            continue
        if prefixed:
            root = source.where(rel)
            if root not in roots:
                roots[root] = [source.root_name(rel)]
            parts = roots[root] + rel.split("/")
        else:
            parts = rel.split("/")
        found = layout.match(parts)
        if isinstance(found, str):
            misfits.append((rel, f"{layout.suffixes[0]} file {found}"))
        else:
            matched.append(TreeFile(rel, found))
    return matched, misfits
