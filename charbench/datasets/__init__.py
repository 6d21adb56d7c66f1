"""Dataset converters, registered by name on import (every module is imported explicitly)."""

from charbench.datasets.base import DATASETS, Catalog, ClassInfo, Converter, Defaults, register_dataset
from charbench.datasets import emnist, kmnist, mnist  # noqa: F401  (registration)

__all__ = ["DATASETS", "Catalog", "ClassInfo", "Converter", "Defaults", "register_dataset"]
