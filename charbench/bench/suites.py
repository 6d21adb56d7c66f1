"""Benchmark suites as data: datasets x models x training recipe x seeds.

A suite names prepared datasets by fnmatch pattern, matched against each dataset's folder name and against the
dataset it was prepared as (``mnist``, ``emnist-letters``, ``kuzushiji`` ... from index.json, so a dataset prepared
with ``--name kz500`` is still a ``kuzushiji`` one), the models to train (or None for each dataset's reference models,
which its converter declares), one default ``Recipe`` with per-model overrides, and the seeds. Published targets
are declared by the converters too (``charbench.datasets``), never here.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from charbench.errors import OptionError
from charbench.registry import Registry

OPTIMIZERS = ("adadelta", "sgd", "adam", "adamw")
SCHEDULES = ("constant", "cosine", "step", "onecycle")
# How pixels become model inputs: the train split's mean and std, [0, 1] (x / 255), or [-1, 1] (Normalize(0.5, 0.5)).
INPUT_SCALES = ("dataset", "unit", "half")


@dataclass(frozen=True)
class Recipe:
    """How one model is trained: epochs, batch size, optimiser, learning-rate schedule, augmentation."""

    epochs: int = 12
    batch_size: int = 128
    optimizer: str = "adadelta"
    lr: float = 1.0
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "constant"
    augment: bool = False
    label_smoothing: float = 0.0
    nesterov: bool = True  # SGD with momentum: Nesterov's (False: plain momentum, as torch.optim.SGD's default)
    inputs: str = "dataset"  # see INPUT_SCALES
    augmentation: tuple[tuple[str, float], ...] = ()  # overrides of data.Augment's fields when augment is on

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise OptionError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.schedule not in SCHEDULES:
            raise OptionError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        if self.inputs not in INPUT_SCALES:
            raise OptionError(f"inputs must be one of {', '.join(INPUT_SCALES)}, got {self.inputs!r}")
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            raise OptionError(f"epochs, batch_size and lr must be positive: {self}")


@dataclass(frozen=True)
class DatasetSpec:
    """The prepared dataset an experiment needs: its converter, what its index.json must say, and how to make one.

    ``requires`` holds (dotted index.json path, value) pairs, e.g. ``("split.method", "random")``,
    ``("options.label", "alphabet")``, ``("num_classes", 30)``; any prepared dataset that matches them all is used.
    """

    converter: str
    requires: tuple[tuple[str, Any], ...]
    prepare: str  # the command line that prepares one (shown when none is prepared)

    def matches(self, index: dict) -> bool:
        if index.get("converter") != self.converter.partition("/")[0]:
            return False
        if "/" in self.converter and index.get("config") != self.converter.partition("/")[2]:
            return False
        return all(_lookup(index, path) == value for path, value in self.requires)


def _lookup(index: dict, path: str):
    value: Any = index
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


@dataclass(frozen=True)
class Experiment:
    """An experiment this field published in a notebook, re-run with its own protocol, and beside it the same
    model and recipe under charbench's leakage-free protocol (group split, balancing after the split)."""

    name: str
    description: str
    model: str
    recipe: Recipe
    notebook: DatasetSpec  # the notebook's own data protocol
    leakage_free: DatasetSpec  # the honest one
    figure: float | None  # the notebook's reported accuracy (percent), None where it could not be recovered
    source: str  # where the figure and the protocol come from
    note: str = ""  # what charbench does differently and why (weights it cannot download ...)


@dataclass(frozen=True)
class Suite:
    """One named benchmark. ``models=None`` means each dataset's reference models. A suite of ``experiments``
    runs each experiment's model and recipe on the datasets its protocols need (datasets and models unused)."""

    name: str
    description: str
    datasets: tuple[str, ...] = ("*",)
    models: tuple[str, ...] | None = None
    recipe: Recipe = Recipe()
    model_recipes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)
    max_train_seconds: float | None = None
    throughput_steps: int = 20
    experiments: tuple[Experiment, ...] = ()

    def recipe_for(self, model: str) -> Recipe:
        """The default recipe with the overrides of every ``model_recipes`` pattern matching ``model``."""
        recipe = self.recipe
        for pattern, overrides in self.model_recipes.items():
            if fnmatch.fnmatch(model, pattern):
                recipe = dataclasses.replace(recipe, **overrides)
        return recipe

    def as_dict(self) -> dict:
        """JSON-ready description (targets keyed ``dataset/model``)."""
        return {
            "name": self.name,
            "description": self.description,
            "datasets": list(self.datasets),
            "models": list(self.models) if self.models is not None else None,
            "recipe": dataclasses.asdict(self.recipe),
            "model_recipes": {k: dict(v) for k, v in self.model_recipes.items()},
            "seeds": list(self.seeds),
            "max_train_seconds": self.max_train_seconds,
            "throughput_steps": self.throughput_steps,
            "experiments": [dataclasses.asdict(e) for e in self.experiments],
        }


SUITES: Registry[Suite] = Registry("suite")


def register_suite(suite: Suite) -> Suite:
    """Add ``suite`` to ``SUITES`` under its name."""
    return SUITES.add(suite.name, suite)


# -- recipes ----------------------------------------------------------------------------------------------------

# The KMNIST paper's simple CNN recipe is the default; deeper models get the usual SGD / Adam recipes.
MODEL_RECIPES: dict[str, dict[str, Any]] = {
    "*resnet*": {
        "optimizer": "sgd",
        "lr": 0.1,
        "weight_decay": 5e-4,
        "schedule": "cosine",
        "epochs": 30,
        "augment": True,
    },
    "kuzushiji_cnn": {"optimizer": "adam", "lr": 1e-3, "schedule": "cosine", "epochs": 20, "augment": True},
    "omniglot_cnn": {"optimizer": "adam", "lr": 1e-3, "schedule": "cosine", "epochs": 30, "augment": True},
    "mlp": {"optimizer": "adam", "lr": 1e-3, "schedule": "cosine", "epochs": 20},
}

def _family(name: str, datasets: tuple[str, ...], description: str) -> Suite:
    return Suite(
        name=name,
        description=description,
        datasets=datasets,
        model_recipes=MODEL_RECIPES,
        seeds=(0, 1, 2),
    )


register_suite(
    Suite(
        name="quick",
        description="CPU-friendly: simple_cnn (KMNIST-paper recipe) on every prepared dataset, at most ~3 min each",
        datasets=("*",),
        models=("simple_cnn",),
        max_train_seconds=170.0,
        throughput_steps=10,
    )
)
register_suite(
    Suite(
        name="all",
        description="every prepared dataset x its reference models (GPU-sized)",
        model_recipes=MODEL_RECIPES,
    )
)
for _name, _datasets, _what in [
    ("mnist", ("mnist",), "MNIST"),
    ("fashion-mnist", ("fashion-mnist",), "Fashion-MNIST"),
    ("kmnist", ("kmnist",), "Kuzushiji-MNIST"),
    ("k49", ("k49",), "Kuzushiji-49"),
    ("emnist", ("emnist-*",), "every prepared EMNIST split"),
    ("hpl-tamil", ("hpl-tamil*",), "HPL isolated Tamil characters"),
    ("kuzushiji", ("kuzushiji", "kuzushiji-kanji"), "Kuzushiji page crops and Kuzushiji-Kanji"),
    ("omniglot", ("omniglot*",), "Omniglot"),
]:
    register_suite(_family(_name, _datasets, f"{_what} x its reference models, 3 seeds"))

from charbench.bench import notebooks  # noqa: F401  (registers the notebooks suite, which builds on these types)
