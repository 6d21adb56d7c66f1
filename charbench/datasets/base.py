"""The extension point: a Converter wires one dataset's raw files to readers and yields pixels on demand.

A converter works in two steps, so that ``prepare`` can split, balance and shard without holding pixels:

1. ``scan()`` returns a :class:`Catalog`: labels, groups, source ids and the class table of every
   example, read from file names, headers and label files only.
2. ``load(rows)`` decodes the images of some catalog rows (one shard's worth at a time), as a dense
   ``uint8 [n, H, W]`` array or a :class:`~charbench.kernels.ragged.Ragged` batch.

After ``scan`` a converter must be picklable (no open file handles): worker processes receive it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from charbench.errors import OptionError
from charbench.registry import Registry

DATASETS: Registry = Registry("dataset")


def register_dataset(name: str):
    """Class decorator: register a Converter under ``name`` (also stored as ``cls.name``)."""

    def decorator(cls):
        cls.name = name
        return DATASETS.add(name, cls)

    return decorator


@dataclass(frozen=True)
class ClassInfo:
    name: str
    codepoint: int = -1  # Unicode codepoint where the class is one character, else -1


@dataclass
class Catalog:
    """Per-example metadata of a whole source, aligned by row."""

    labels: np.ndarray  # int32, index into classes
    source_ids: np.ndarray  # int64, stable row id in the raw source
    classes: list[ClassInfo]
    groups: dict[str, np.ndarray] = field(default_factory=dict)  # grouping name -> int32 ids (-1 unknown)
    official: np.ndarray | None = None  # int8 split codes (0 train, 2 test) where the source has a published split
    native_size: int | None = None  # H = W of every image, when all share one square size
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count of inputs left out
    examples_of_skipped: list[str] = field(default_factory=list)  # the first few left-out inputs, for the summary
    notes: dict[str, Any] = field(default_factory=dict)  # anything else worth recording in index.json

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class Defaults:
    """Normalisation and split defaults a dataset family chooses (CLI flags override them)."""

    size: int | None = None  # None: keep the native size (dense sources only)
    binarize: str = "none"
    center: str = "none"
    margin: int = 2
    invert: str = "auto"
    split: str = "official"
    fallback_split: str = "random"  # used when the default is "official" and the source has no published split
    group_by: str | None = None  # first key of Catalog.groups when None


class Converter:
    """Base class of every dataset converter; subclasses override data and the two methods."""

    name: ClassVar[str] = ""
    defaults: ClassVar[Defaults] = Defaults()
    default_shard_size: ClassVar[int | None] = None  # examples per shard when --shard-size is not given
    # Dataset-specific options (CLI flags such as --label or --set) and their defaults.
    options: ClassVar[dict[str, Any]] = {}
    workers: int = 1  # processes a scan may use (prepare sets it from --workers)

    def __init__(self, source: Path, *, strict: bool = False, **options: Any):
        self.source = Path(source)
        self.strict = strict
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            known = ", ".join(f"--{k.replace('_', '-')}" for k in self.options) or "none"
            raise OptionError(f"{self.name} does not take {', '.join(unknown)} (its own options: {known})")
        self.opts = {**self.options, **options}

    def scan(self) -> Catalog:
        raise NotImplementedError

    def load(self, rows: np.ndarray):
        raise NotImplementedError

    def set_output_size(self, size: int) -> bool:
        """Told the output size before any load. Renderers of vector data (pen strokes) draw straight at it:
        return True to promise that ``load`` yields ``[n, size, size]`` images (normalisation then defaults to a
        no-op). Others may use it as a hint (page crops decode at a reduced scale) and return False."""
        return False

    def source_files(self) -> list[str | Path]:
        """Raw files whose sha256 index.json records (all of them, or a manifest of many)."""
        return []

    def source_digests(self) -> dict[str, tuple[int, str]]:
        """(size, sha256) by path of raw files that scan already read whole, so that index.json's source record
        does not read them again."""
        return {}

    def close(self) -> None:
        """Release temporary files made by scan (called once prepare is done)."""
