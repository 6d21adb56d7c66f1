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
    experiment: str | None = None  # the notebook experiment this job re-runs (notebooks suite)
    protocol: str | None = None  # "notebook", "leakage-free", or "notebook = leakage-free" when they coincide

    @property
    def key(self) -> str:
        """``[<experiment>-<protocol>__]<dataset>__<model>__s<seed>``: the job's file-name stem in a run folder."""
        stem = f"{self.dataset}__{self.model}__s{self.seed}"
        if self.experiment is None:
            return stem
        return f"{self.experiment}-{self.protocol.replace(' = ', '-')}__{stem}"


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
    for model in [*(suite.models or ()), *(e.model for e in suite.experiments)]:
        MODELS.get(model)  # fail before any training, with close matches, on a misspelt model
    if suite.experiments:
        return _experiment_jobs(suite, Path(data_root), datasets, models, seeds)
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


def _experiment_jobs(suite: Suite, data_root: Path, datasets: str | None, models: str | None,
                     seeds: list[int] | None) -> tuple[list[Job], list[Skipped]]:
    """Each experiment's model and recipe on a prepared dataset of each of its protocols; a protocol with no such
    dataset is skipped with the command that prepares one."""
    prepared = [Prepared(p, read_index(p)) for p in list_datasets(data_root)]
    jobs, skipped = [], []
    for e in suite.experiments:
        if (datasets and not fnmatch.fnmatch(e.name, datasets)) or (models and not fnmatch.fnmatch(e.model, models)):
            continue
        protocols = [("notebook", e.notebook), ("leakage-free", e.leakage_free)]
        if e.notebook == e.leakage_free:
            protocols = [("notebook = leakage-free", e.notebook)]
        for protocol, spec in protocols:
            match = next((d for d in prepared if spec.matches(d.index)), None)
            if match is None:
                skipped.append(Skipped(f"{e.name} ({protocol})", f"no dataset prepared as the {protocol} protocol "
                                       f"needs under {data_root}", spec.prepare + f" --out {data_root}"))
                continue
            target = _notebook_target(e) if e.figure is not None else None
            for seed in seeds if seeds is not None else suite.seeds:
                jobs.append(Job(match.path.name, match.path, e.model, int(seed), e.recipe, target,
                                match.index.get("split"), e.name, protocol))
    return jobs, skipped


def _notebook_target(e) -> Target:
    """The notebook's figure as the job's target, with the split its protocol used (so the leakage-free job shows
    the difference)."""
    needs = dict(e.notebook.requires)
    method = needs.get("split.method", "official")
    split = f"group:{needs['split.group_by']}" if method == "group" else method
    return Target(e.model, e.figure, e.source, e.note or e.description, split=split, kind="notebook")
