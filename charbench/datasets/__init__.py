"""Dataset converters, registered by name on import (every module is imported explicitly)."""

from charbench.datasets import (  # noqa: F401  (registration)
    emnist,
    hpl_tamil,
    kmnist,
    kuzushiji,
    kuzushiji_kanji,
    mnist,
    omniglot,
    unipen,
)
from charbench.datasets.base import (
    DATASETS,
    Catalog,
    ClassInfo,
    Config,
    Converter,
    Defaults,
    catalogue_names,
    dataset_ids,
    register_dataset,
    resolve,
)

__all__ = ["DATASETS", "Catalog", "ClassInfo", "Config", "Converter", "Defaults", "catalogue_names", "dataset_ids",
           "register_dataset", "resolve"]
