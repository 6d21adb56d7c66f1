"""Dataset converters, registered by name on import (every module is imported explicitly)."""

from charbench.datasets import emnist, kmnist, kuzushiji, kuzushiji_kanji, mnist  # noqa: F401  (registration)
from charbench.datasets import omniglot  # noqa: F401  (registration)
from charbench.datasets import hpl_tamil, unipen  # noqa: F401  (registration)
from charbench.datasets.base import DATASETS, Catalog, ClassInfo, Converter, Defaults, register_dataset

__all__ = ["DATASETS", "Catalog", "ClassInfo", "Converter", "Defaults", "register_dataset"]
