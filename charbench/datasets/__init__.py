"""Dataset converters, registered by name on import: every module of this package is imported here, so adding a
dataset is adding its module (``charbench new NAME`` writes the skeleton)."""

import importlib
import pkgutil

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

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")
