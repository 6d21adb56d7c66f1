"""Expand a suite against a data root: the (dataset, model, seed) jobs to run, and the datasets to skip.

Each prepared dataset is known by its index.json: the converter and config that made it give its reference models
and published targets, whatever its folder is called.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from charbench.bench.suites import Recipe, Suite
from charbench.datasets.base import converter_of
from charbench.errors import ShardFormatError
from charbench.models import MODELS
from charbench.shards.index import read_index
from charbench.shards.reader import list_datasets
from charbench.targets import Target

FALLBACK_MODELS = ("simple_cnn",)  # for datasets no converter made (arrays written from memory)


@dataclass(frozen=True)
class Job:
    """One training run: a prepared dataset, a model, a seed and how to train it."""

    dataset: str
    path: Path
    model: str
    seed: int
    recipe: Recipe
    target: Target | None
    split: dict | None = None  # index.json's split record, to tell whether the target's protocol matches

    @property
    def key(self) -> str:
        """``<dataset>__<model>__s<seed>``: the job's file-name stem in a run folder."""
        return f"{self.dataset}__{self.model}__s{self.seed}"


@dataclass(frozen=True)
class Skipped:
    """A dataset the suite names that is not prepared under the data root, and the command that prepares it."""

    dataset: str
    reason: str
    command: str

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return {"dataset": self.dataset, "reason": self.reason, "command": self.command}


def prepare_command(name: str, data_root: Path) -> str:
    """The ``charbench prepare`` command line that makes ``name`` (a pattern lists the matching converters)."""
    from charbench.datasets import catalogue_names  # imported here: planning needs it only for this hint

    if not any(c in name for c in "*?["):
        return f"charbench prepare {name} --source RAW_DIR --out {data_root}"
    names = catalogue_names(name)
    return f"charbench prepare NAME --source RAW_DIR --out {data_root} (NAME: {', '.join(names) or name})"


class Prepared:
    """A prepared dataset under the data root: its folder, index.json, and the converter that made it."""

    def __init__(self, path: Path, index: dict):
        self.path, self.index = path, index
        found = converter_of(index)
        self.converter = found[0] if found else None
        # what suite patterns match: the folder name, and the dataset it was prepared as
        self.names = {path.name} | ({found[0].catalogue_name(found[1]), found[0].name} if found else set())

    def reference_models(self) -> tuple[str, ...]:
        return self.converter.reference_models if self.converter else FALLBACK_MODELS

    def target(self, model: str) -> Target | None:
        return self.converter.target_for(model, self.index) if self.converter else None


def _matches(prepared: Prepared, pattern: str) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for name in prepared.names)


def _dataset_paths(suite: Suite, data_root: Path, only: str | None) -> tuple[dict[str, Prepared], list[Skipped]]:
    prepared: dict[str, Prepared] = {}
    skipped: list[Skipped] = []
    for path in list_datasets(data_root):
        try:
            prepared[path.name] = Prepared(path, read_index(path))
        except ShardFormatError as exc:  # one unusable dataset must not cost the rest of the suite
            skipped.append(Skipped(path.name, str(exc), f"charbench verify {path}"))
    chosen: dict[str, Prepared] = {}
    for pattern in suite.datasets:
        if only and not any(c in pattern for c in "*?[") and not fnmatch.fnmatch(pattern, only):
            continue
        matches = [n for n, d in prepared.items() if _matches(d, pattern) and (not only or _matches(d, only))]
        if not matches and (pattern != "*" or not prepared):
            reason = f"no prepared dataset matching {pattern!r} under {data_root}"
            command = prepare_command("NAME" if pattern == "*" else pattern, data_root)
            skipped.append(Skipped(pattern, reason, command))
        for name in matches:
            chosen.setdefault(name, prepared[name])
    return dict(sorted(chosen.items())), skipped


def expand(
    suite: Suite,
    data_root: Path,
    *,
    datasets: str | None = None,
    models: str | None = None,
    seeds: list[int] | None = None,
) -> tuple[list[Job], list[Skipped]]:
    """The suite's jobs over the datasets prepared under ``data_root``, and the datasets it has to skip.

    Args:
        suite: the suite.
        data_root: folder with one sub-folder per prepared dataset.
        datasets: fnmatch pattern restricting dataset names (``--datasets``).
        models: fnmatch pattern restricting model names (``--models``).
        seeds: seeds replacing the suite's (``--seeds``).

    Raises:
        UnknownNameError: the suite names a model that is not registered.
    """
    for model in suite.models or ():
        MODELS.get(model)  # fail before any training, with close matches, on a misspelt model
    found, skipped = _dataset_paths(suite, Path(data_root), datasets)
    jobs = []
    for name, dataset in found.items():
        for model in suite.models if suite.models is not None else dataset.reference_models():
            if models and not fnmatch.fnmatch(model, models):
                continue
            for seed in seeds if seeds is not None else suite.seeds:
                jobs.append(Job(name, dataset.path, model, int(seed), suite.recipe_for(model), dataset.target(model),
                                dataset.index.get("split")))
    return jobs, skipped
