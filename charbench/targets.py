"""Published accuracy targets: what a model reached on a dataset, where it was published and under what protocol.

Converters declare their targets beside their code (``Converter.targets``); the benchmark runner compares each job's
test figure with the target of its (dataset, model) pair and says when the protocols differ, e.g. a source that
split its data at random where charbench split it by writer. No torch here: ``prepare`` and ``datasets`` use it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from charbench.errors import OptionError

METRICS = ("top1", "balanced_accuracy")
KINDS = ("published", "notebook")


@dataclass(frozen=True)
class Target:
    """A test accuracy (percent) of ``model`` on a dataset, with its source and protocol.

    Attributes:
        model: registered model name the figure belongs to.
        value: accuracy in percent.
        source: paper with table, or repository with file, precise enough to find the number.
        protocol: how the source measured it (split, metric, augmentation, epochs), in its own terms.
        split: the source's split, comparable with index.json's: ``official``, ``random`` or ``group:<key>``
            (``group:writer``, ``group:drawer``, ``group:page``).
        metric: ``top1`` or ``balanced_accuracy`` (mean per-class recall, the KMNIST authors' metric for K49).
        config: the converter config the figure is for (``letters`` of ``emnist``); None for every config.
        options: converter options the dataset must have been prepared with (``(("label", "alphabet"),)``).
        num_classes: the class count the figure is for (30 for Omniglot's background alphabets); None for any.
        kind: ``published`` (a paper or an official README) or ``notebook`` (a figure a public notebook of this
            field printed, where nothing was published for the pairing).
    """

    model: str
    value: float
    source: str
    protocol: str
    split: str = "official"
    metric: str = "top1"
    config: str | None = None
    options: tuple[tuple[str, str], ...] = ()
    num_classes: int | None = None
    kind: str = "published"

    def __post_init__(self):
        if self.metric not in METRICS:
            raise OptionError(f"target metric must be one of {', '.join(METRICS)}, got {self.metric!r}")
        if self.kind not in KINDS:
            raise OptionError(f"target kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if not (self.split in ("official", "random") or self.split.startswith("group:")):
            raise OptionError(f"target split must be official, random or group:<key>, got {self.split!r}")
        if not 0 < self.value <= 100:
            raise OptionError(f"target value is a percentage in (0, 100], got {self.value}")

    def applies(self, config: str | None, options: dict, num_classes: int) -> bool:
        """True when this figure is for a dataset of this config, prepared with these options and class count."""
        return ((self.config is None or self.config == config)
                and all(str(options.get(k)) == v for k, v in self.options)
                and (self.num_classes is None or self.num_classes == num_classes))

    def protocol_difference(self, split: dict | None) -> str | None:
        """Why this target is not directly comparable with a dataset split as ``split`` (index.json's record), or
        None when it is: the same method, and for group splits the same grouping."""
        if not split:
            return None
        method = split.get("method")
        ours = f"group:{split.get('group_by')}" if method == "group" else method
        if ours == self.split:
            return None
        return f"the source used {describe_split(self.split)}; this dataset has {describe_split(ours)}"

    def as_dict(self) -> dict:
        return asdict(self)


def describe_split(split: str | None) -> str:
    """``group:writer`` -> "a split by writer" (and the like), for messages and reports."""
    if split is None:
        return "an unknown split"
    if split.startswith("group:"):
        return f"a split by {split.removeprefix('group:')}"
    return {"official": "the official split", "random": "a random split"}.get(split, f"a {split} split")
