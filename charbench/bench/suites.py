"""Benchmark suites as data: datasets x models x training recipe x seeds, with published accuracy targets.

A suite names prepared datasets by fnmatch pattern (folder names under the data root: ``mnist``, ``kmnist``,
``k49``, ``fashion-mnist``, ``emnist-*``, ...), the models to train (or None for each dataset's reference models
in ``REFERENCE_MODELS``), one default ``Recipe`` with per-model overrides, the seeds, and a ``Target`` per
(dataset, model) pair wherever a published result for that pair exists, with its source beside it.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from charbench.errors import OptionError
from charbench.registry import Registry


@dataclass(frozen=True)
class Target:
    """A published accuracy (percent) for one (dataset, model) pair, and where it comes from."""

    value: float
    source: str
    metric: str = "top1"  # or "balanced_accuracy" (the KMNIST authors' metric for the imbalanced K49)

    def __post_init__(self):
        if self.metric not in ("top1", "balanced_accuracy"):
            raise OptionError(f"target metric must be top1 or balanced_accuracy, got {self.metric!r}")


OPTIMIZERS = ("adadelta", "sgd", "adam", "adamw")
SCHEDULES = ("constant", "cosine", "step", "onecycle")


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

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise OptionError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.schedule not in SCHEDULES:
            raise OptionError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            raise OptionError(f"epochs, batch_size and lr must be positive: {self}")


@dataclass(frozen=True)
class Suite:
    """One named benchmark. ``models=None`` means each dataset's reference models."""

    name: str
    description: str
    datasets: tuple[str, ...] = ("*",)
    models: tuple[str, ...] | None = None
    recipe: Recipe = Recipe()
    model_recipes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)
    targets: Mapping[tuple[str, str], Target] = field(default_factory=dict)
    max_train_seconds: float | None = None
    throughput_steps: int = 20

    def recipe_for(self, model: str) -> Recipe:
        """The default recipe with the overrides of every ``model_recipes`` pattern matching ``model``."""
        recipe = self.recipe
        for pattern, overrides in self.model_recipes.items():
            if fnmatch.fnmatch(model, pattern):
                recipe = dataclasses.replace(recipe, **overrides)
        return recipe

    def target_for(self, dataset: str, model: str) -> Target | None:
        """The published target for this pair, if there is one."""
        return self.targets.get((dataset, model))

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
            "targets": {f"{d}/{m}": dataclasses.asdict(t) for (d, m), t in self.targets.items()},
            "max_train_seconds": self.max_train_seconds,
            "throughput_steps": self.throughput_steps,
        }


SUITES: Registry[Suite] = Registry("suite")


def register_suite(suite: Suite) -> Suite:
    """Add ``suite`` to ``SUITES`` under its name."""
    return SUITES.add(suite.name, suite)


# -- reference models and recipes ------------------------------------------------------------------------------

# dataset-name pattern -> reference models; the first matching pattern wins, "*" is the fallback
REFERENCE_MODELS: dict[str, tuple[str, ...]] = {
    "k49": ("simple_cnn", "preact_resnet18"),
    "kmnist": ("simple_cnn", "preact_resnet18"),
    "mnist": ("simple_cnn", "mlp", "preact_resnet18"),
    "fashion-mnist": ("simple_cnn", "mlp", "resnet18"),
    "qmnist": ("simple_cnn", "mlp"),
    "emnist-*": ("simple_cnn", "resnet18"),
    "kuzushiji*": ("kuzushiji_cnn", "resnet18"),
    "hpl-tamil*": ("kuzushiji_cnn", "resnet18"),
    "omniglot*": ("omniglot_cnn", "resnet18"),
    "*": ("simple_cnn",),
}


def reference_models(dataset: str) -> tuple[str, ...]:
    """The reference models of the first ``REFERENCE_MODELS`` pattern matching ``dataset``."""
    for pattern, models in REFERENCE_MODELS.items():
        if fnmatch.fnmatch(dataset, pattern):
            return models
    return REFERENCE_MODELS["*"]


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

_KMNIST_PAPER = (
    "Clanuwat et al. 2018, 'Deep Learning for Classical Japanese Literature', arXiv:1812.01718, "
    "classification baselines table (also github.com/rois-codh/kmnist README)"
)
_FIXED_DATA = "; the README's numbers after the 2019-02-05 data fix are {}"

TARGETS: dict[tuple[str, str], Target] = {
    ("mnist", "simple_cnn"): Target(99.06, _KMNIST_PAPER + ": Keras simple CNN, MNIST"),
    ("kmnist", "simple_cnn"): Target(94.63, _KMNIST_PAPER + ": Keras simple CNN, KMNIST" + _FIXED_DATA.format("95.12")),
    ("k49", "simple_cnn"): Target(
        89.36,
        _KMNIST_PAPER + ": Keras simple CNN, K49 balanced accuracy" + _FIXED_DATA.format("89.25"),
        metric="balanced_accuracy",
    ),
    ("mnist", "preact_resnet18"): Target(99.56, _KMNIST_PAPER + ": PreActResNet-18, MNIST"),
    ("kmnist", "preact_resnet18"): Target(97.82, _KMNIST_PAPER + ": PreActResNet-18, KMNIST"),
    ("k49", "preact_resnet18"): Target(
        96.64, _KMNIST_PAPER + ": PreActResNet-18, K49 balanced accuracy", metric="balanced_accuracy"
    ),
}


def _family(name: str, datasets: tuple[str, ...], description: str) -> Suite:
    return Suite(
        name=name,
        description=description,
        datasets=datasets,
        model_recipes=MODEL_RECIPES,
        seeds=(0, 1, 2),
        targets=TARGETS,
    )


register_suite(
    Suite(
        name="quick",
        description="CPU-friendly: simple_cnn (KMNIST-paper recipe) on every prepared dataset, at most ~3 min each",
        datasets=("*",),
        models=("simple_cnn",),
        targets=TARGETS,
        max_train_seconds=170.0,
        throughput_steps=10,
    )
)
register_suite(
    Suite(
        name="all",
        description="every prepared dataset x its reference models (GPU-sized)",
        model_recipes=MODEL_RECIPES,
        targets=TARGETS,
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
