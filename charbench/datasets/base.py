"""The extension point: a Converter owns one dataset family, from its raw files to what a benchmark compares against.

Beside its code a converter declares, as class attributes (as TFDS keeps ``VERSION`` and ``BUILDER_CONFIGS`` on a
builder and timm keeps ``default_cfgs`` beside each model):

* ``configs``: its variants (``emnist/letters``); the first is the default. None for a single-variant family.
* ``roles()``: the raw files it finds by name, as roles of its ``data_manifest.yaml`` entry (names live there only).
* ``VERSION``: bumped whenever its output for the same input changes; recorded in index.json and in the plan
  fingerprint, so ``--resume`` never mixes shards of two versions.
* ``reference_models`` and ``targets``: what ``charbench run`` trains on its datasets and the published figures
  (with sources and protocols) the results are compared with. The runner finds them through index.json's converter
  and config, whatever the dataset folder is called.
* ``write_synthetic()``: a small synthetic raw source in its format, for the demo and the registry-wide tests.

A converter works in two steps, so that ``prepare`` can split, balance and shard without holding pixels:

1. ``scan()`` returns a :class:`Catalog`: labels, groups, source ids and the class table of every example, read
   from file names, headers and label files only. Inputs it leaves out go to ``self.skips``.
2. ``load(rows)`` decodes the images of some catalog rows (``load_batch`` rows of a shard at a time), as a dense
   ``uint8 [n, H, W]`` array or a :class:`~charbench.kernels.ragged.Ragged` batch (:func:`load_image_files` for
   one image per file).

After ``scan`` a converter must be picklable (no open file handles): worker processes receive it.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from charbench.errors import ArchiveError, FormatError, OptionError, RawDataNotFoundError, UnknownNameError
from charbench.io.images import UnreadableImageError, decode_grey
from charbench.io.source import RawSource
from charbench.kernels.ragged import Ragged
from charbench.registry import Registry
from charbench.shards.schema import DEFAULT_SHARD_SIZE
from charbench.targets import Target

DATASETS: Registry = Registry("dataset")
NAMES_PER_REASON = 5  # skipped inputs named per reason, in index.json and the --strict message


def register_dataset(name: str):
    """Class decorator: register a Converter under ``name`` (also stored as ``cls.name``)."""

    def decorator(cls):
        cls.name = name
        return DATASETS.add(name, cls)

    return decorator


@dataclass(frozen=True)
class Config:
    """One variant of a dataset family, addressed as ``family/config`` (and named ``family-config`` on disk and in
    the manifest). Families subclass it to add the data that differs between their variants."""

    name: str
    description: str = ""


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
    official: np.ndarray | None = None  # int8 split codes (schema.TRAIN/VAL/TEST) of a published split
    native_size: int | None = None  # H = W of every image, when all share one square size
    notes: dict[str, Any] = field(default_factory=dict)  # anything else worth recording in index.json

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class Decoded:
    """What ``load`` returns when some of the rows asked for could not be decoded (converters that check files only
    at decode, so that their scan reads names alone): the images of the others, and why each failed.

    The shard then holds the other rows; index.json counts the failures as skipped (``--strict``: the prepare fails).
    """

    images: np.ndarray | Any  # dense uint8 [k, H, W] or a Ragged batch of the decodable rows, in the order asked
    failed: dict[int, tuple[str, str]]  # position in the rows asked -> (reason, file name)


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


class Skips:
    """Inputs left out of a dataset: counted by reason, the first few named per reason.

    Every converter records what it leaves out here and carries on; ``raise_if_strict`` (called by ``prepare``
    after the scan) then fails under ``--strict`` with every reason at once. Reasons marked not fatal (junk files,
    a documented property of the published data such as UNIPEN segments marked BAD) never fail.
    """

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.names: dict[str, list[str]] = {}
        self.lenient: set[str] = set()

    def add(self, reason: str, name: str | None = None, *, count: int = 1, fatal: bool = True) -> None:
        """Count ``count`` inputs left out for ``reason``; ``name`` (a file, a row) is kept while there is room."""
        if count <= 0:
            return
        self.counts[reason] = self.counts.get(reason, 0) + count
        named = self.names.setdefault(reason, [])
        if name is not None and len(named) < NAMES_PER_REASON:
            named.append(name)
        if not fatal:
            self.lenient.add(reason)

    def examples(self, limit: int = 20) -> list[str]:
        """``name (reason)`` of the first named inputs, reason by reason."""
        out = [f"{n} ({reason})" for reason, names in self.names.items() for n in names]
        return out[:limit]

    def fatal(self) -> dict[str, int]:
        return {r: n for r, n in self.counts.items() if r not in self.lenient}

    def raise_if_strict(self, strict: bool, where: str | Path) -> None:
        """Under ``--strict``, a FormatError naming every fatal reason, its count and its first inputs."""
        bad = self.fatal()
        if not strict or not bad:
            return
        parts = [f"{n:,} {reason} (e.g. {', '.join(self.names.get(reason, [])[:3]) or 'unnamed'})"
                 for reason, n in bad.items()]
        raise FormatError(f"--strict: {sum(bad.values()):,} bad input(s) in {where}: " + "; ".join(parts)
                          + " (without --strict they are skipped and counted)")

    def as_dict(self) -> dict:
        """What index.json records: counts by reason, and the named examples."""
        return {"skipped": dict(self.counts), "skipped_examples": self.examples()}


class Converter:
    """Base class of every dataset converter; subclasses override data and the two methods."""

    name: ClassVar[str] = ""
    VERSION: ClassVar[str] = "1.0.0"
    configs: ClassVar[tuple[Config, ...]] = ()
    reference_models: ClassVar[tuple[str, ...]] = ("simple_cnn",)
    targets: ClassVar[tuple[Target, ...]] = ()
    defaults: ClassVar[Defaults] = Defaults()
    default_shard_size: ClassVar[int] = DEFAULT_SHARD_SIZE  # examples per shard when --shard-size is not given
    # Dataset-specific options (CLI flags such as --label or --set) and their defaults.
    options: ClassVar[dict[str, Any]] = {}
    # True when load() costs next to nothing (memory-mapped arrays): a pixel-exact prepare then stays in one process
    cheap_load: ClassVar[bool] = False
    # Rows per load() call when a shard is rendered: bounds the decoded pixels held at once. None: a shard's rows in
    # one call, for a load that shares work between rows (one page decoded for all its crops).
    load_batch: ClassVar[int | None] = 512
    workers: int = 1  # processes a scan may use (prepare sets it from --workers)

    def __init__(self, source: Path, *, config: str | Config | None = None, strict: bool = False, **options: Any):
        self.source = Path(source)
        self.config = config if isinstance(config, Config) else self.config_named(config)
        self.strict = strict
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            known = ", ".join(f"--{k.replace('_', '-')}" for k in self.options) or "none"
            raise OptionError(f"{self.name} does not take {', '.join(unknown)} (its own options: {known})")
        self.opts = {**self.options, **options}
        self.skips = Skips()

    # -- identity -------------------------------------------------------------------------------------------------

    @classmethod
    def config_named(cls, name: str | None) -> Config | None:
        """The config called ``name``; the default (first) one when None; None for a family without configs."""
        if not cls.configs:
            if name:
                raise OptionError(f"{cls.name} has no configs; got {name!r}")
            return None
        if name is None:
            return cls.configs[0]
        for config in cls.configs:
            if config.name == name:
                return config
        close = difflib.get_close_matches(name, [c.name for c in cls.configs], n=3)
        raise UnknownNameError(f"{cls.name} has no config {name!r}; "
                               f"{'did you mean ' + ', '.join(close) + '?' if close else 'it has'} "
                               f"{'' if close else ', '.join(c.name for c in cls.configs)}".rstrip())

    @classmethod
    def catalogue_name(cls, config: Config | None) -> str:
        """``family`` or ``family-config``: the manifest key and the default dataset folder name."""
        return cls.name if config is None else f"{cls.name}-{config.name}"

    @property
    def dataset_name(self) -> str:
        return self.catalogue_name(self.config)

    @classmethod
    def target_for(cls, model: str, index: dict) -> Target | None:
        """The published target of ``model`` on the dataset whose index.json is ``index`` (its config, options and
        class count decide which figure applies), or None."""
        found = [t for t in cls.targets if t.model == model and t.applies(index.get("config"), index.get("options")
                                                                          or {}, int(index.get("num_classes", 0)))]
        return found[0] if found else None

    # -- raw files ------------------------------------------------------------------------------------------------

    def roles(self) -> tuple[str, ...]:
        """Manifest roles of the raw files this converter finds by name (see :meth:`file_names`)."""
        return ()

    def file_names(self, role: str) -> list[str]:
        """The names a raw file of ``role`` goes by: the manifest's (a file, or an archive member) and its gzipped or
        unpacked twin, since users keep both."""
        from charbench.manifest import load_manifest

        entry = load_manifest().get(self.dataset_name)
        name = entry.role_name(role) if entry is not None else None
        if name is None:
            raise UnknownNameError(f"{self.dataset_name}: no raw file of role {role!r} in data_manifest.yaml")
        return spellings(name)

    def open_source(self, **kwargs: Any) -> RawSource:
        """``--source`` as a RawSource; the junk, second copies and unsafe archive entries it left out are recorded
        as skipped (only unsafe entries count as bad input)."""
        if not self.source.exists():
            fetch = f"charbench fetch {self.dataset_name}, or " if self.roles() else ""
            raise RawDataNotFoundError(f"raw source {self.source} not found; {fetch}pass --source with the raw files")
        source = RawSource(self.source, **kwargs)
        self.skips.add(JUNK, count=source.junk, fatal=False)
        self.skips.add(SHADOWED, count=source.shadowed, fatal=False)
        for entry in source.unsafe:
            self.skips.add(UNSAFE, entry)
        return source

    # -- the two steps ------------------------------------------------------------------------------------------

    def scan(self) -> Catalog:
        raise NotImplementedError

    def load(self, rows: np.ndarray):
        raise NotImplementedError

    def set_output_size(self, size: int) -> bool:
        """Told the output size before any load. Renderers of vector data (pen strokes) draw straight at it:
        return True to promise that ``load`` yields ``[n, size, size]`` images (normalisation then defaults to a
        no-op). Others may use it as a hint (page crops decode at a reduced scale) and return False."""
        return False

    def describe(self, row: int) -> str:
        """Catalog row ``row`` for a message: its file, where the converter knows one."""
        return f"catalog row {row}"

    def source_files(self) -> list[str | Path]:
        """Raw files whose sha256 index.json records (all of them, or a manifest of many)."""
        return []

    def source_digests(self) -> dict[str, tuple[int, str]]:
        """(size, sha256) by path of raw files that scan already read whole, so that index.json's source record
        does not read them again."""
        return {}

    def close(self) -> None:
        """Release temporary files made by scan (called once prepare is done)."""

    def write_synthetic(self, root: Path) -> Path:
        """Write a small synthetic raw source of this dataset (this config) under ``root``; returns the path to
        pass as ``--source``. The demo and the registry-wide tests prepare it."""
        raise NotImplementedError(f"{self.name} has no synthetic source")


def load_image_files(raw: RawSource, rels: Sequence[str], side: int | None, reason: str):
    """What ``load`` returns for one image per file: the grey images of files ``rels`` of ``raw``, as one dense
    uint8 [k, side, side] array when each is side x side (grey PNGs decode straight into it), else Ragged. Files that
    cannot be read or decoded are left out and listed with ``reason`` (:class:`Decoded`)."""
    stack = np.empty((len(rels), side, side), np.uint8) if side else None
    images: list[np.ndarray] = []
    failed: dict[int, tuple[str, str]] = {}
    dense = stack is not None
    for k, rel in enumerate(rels):
        slot = stack[len(images)] if dense else None
        try:
            image = decode_grey(raw.read(rel), raw.describe(rel), into=slot)
        except (UnreadableImageError, ArchiveError) as exc:
            failed[k] = (reason, str(exc))
            continue
        if dense and image is not slot:
            if image.shape == slot.shape:
                slot[...] = image
            else:
                dense = False  # an image of another size: the batch is ragged
        images.append(image)
    batch = stack[: len(images)] if dense else Ragged.from_list(images)
    return Decoded(batch, failed) if failed else batch


def group_ids(names: list[str | None]) -> tuple[np.ndarray, list[str]]:
    """int32 group ids of writer / page names: the number itself when every name is a number, else the rank of the
    sorted name (then also the sorted names, for index.json); -1 where the name is None."""
    known = sorted({n for n in names if n is not None})
    numeric = all(n.isdigit() and len(n) < 10 for n in known)
    lookup = {n: int(n) if numeric else k for k, n in enumerate(known)}
    ids = np.array([lookup[n] if n is not None else -1 for n in names], dtype=np.int32)
    return ids, [] if numeric else known


def spellings(name: str) -> list[str]:
    """A raw file name as published and in its other common form: an idx file gzipped or unpacked."""
    base = name.removesuffix(".gz")
    return [base, base + ".gz"] if base != name or "idx" in name else [name]


JUNK = "operating-system junk files (.DS_Store, ._* AppleDouble, __MACOSX)"
UNSAFE = "unsafe archive entries (absolute path, '..', link or duplicate name)"
SHADOWED = "second copies of files (an archive beside its extracted folder): the extracted file is read"


def resolve(spec: str) -> tuple[type[Converter], Config | None]:
    """The converter and config a dataset name means: ``emnist/letters``, ``emnist-letters``, ``emnist`` (its default
    config), ``fashion_mnist`` ...

    Raises:
        UnknownNameError: no such dataset; the message suggests close matches.
    """
    key = spec.strip().lower().replace("_", "-")
    family, _, config = key.partition("/")
    if family in DATASETS:
        cls = DATASETS.get(family)
        return cls, cls.config_named(config or None)
    for name in DATASETS.names():
        cls = DATASETS.get(name)
        for c in cls.configs:
            if cls.catalogue_name(c) == key:
                return cls, c
    close = difflib.get_close_matches(key, dataset_ids() + DATASETS.names(), n=3)
    hint = f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(dataset_ids())}"
    raise UnknownNameError(f"unknown dataset {spec!r}; {hint}")


def converter_of(index: dict) -> tuple[type[Converter], Config | None] | None:
    """The converter and config that prepared a dataset, read from its index.json; None for datasets no converter
    made (``write_arrays``) or made by a converter this charbench does not have."""
    name, config = index.get("converter"), index.get("config")
    try:
        return resolve(f"{name}/{config}" if config else str(name))
    except (UnknownNameError, OptionError):
        return None


def dataset_ids() -> list[str]:
    """Every dataset charbench converts: ``family`` or ``family/config`` for each config."""
    out = []
    for name in DATASETS.names():
        cls = DATASETS.get(name)
        out += [f"{name}/{c.name}" for c in cls.configs] if cls.configs else [name]
    return out


def catalogue_names(pattern: str = "*") -> list[str]:
    """The datasets' names on disk and in data_manifest.yaml (``emnist-letters``), optionally those matching an
    fnmatch ``pattern``."""
    import fnmatch

    names = [resolve(i)[0].catalogue_name(resolve(i)[1]) for i in dataset_ids()]
    return [n for n in names if fnmatch.fnmatch(n, pattern)]
