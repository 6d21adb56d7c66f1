"""Expand a suite against a data root: the (dataset, model, seed) jobs to run, and the datasets to skip."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from charbench.bench.suites import Recipe, Suite, Target, reference_models
from charbench.models import MODELS
from charbench.shards.reader import list_datasets


@dataclass(frozen=True)
class Job:
    """One training run: a prepared dataset, a model, a seed and how to train it."""

    dataset: str
    path: Path
    model: str
    seed: int
    recipe: Recipe
    target: Target | None

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
    from charbench.datasets import DATASETS  # imported here: planning needs it only for this hint

    if not any(c in name for c in "*?["):
        return f"charbench prepare {name} --source RAW_DIR --out {data_root}"
    names = DATASETS.names(name)
    return f"charbench prepare NAME --source RAW_DIR --out {data_root} (NAME: {', '.join(names) or name})"


def _dataset_paths(suite: Suite, data_root: Path, only: str | None) -> tuple[dict[str, Path], list[Skipped]]:
    prepared = {p.name: p for p in list_datasets(data_root)}
    chosen: dict[str, Path] = {}
    skipped: list[Skipped] = []
    for pattern in suite.datasets:
        if only and not any(c in pattern for c in "*?[") and not fnmatch.fnmatch(pattern, only):
            continue
        matches = [n for n in prepared if fnmatch.fnmatch(n, pattern) and (not only or fnmatch.fnmatch(n, only))]
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
    paths, skipped = _dataset_paths(suite, Path(data_root), datasets)
    jobs = []
    for name, path in paths.items():
        for model in suite.models if suite.models is not None else reference_models(name):
            if models and not fnmatch.fnmatch(model, models):
                continue
            for seed in seeds if seeds is not None else suite.seeds:
                jobs.append(Job(name, path, model, int(seed), suite.recipe_for(model), suite.target_for(name, model)))
    return jobs, skipped
