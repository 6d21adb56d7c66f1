"""charbench: handwritten-character datasets to one HDF5 shard format, and comparable CNN benchmarks on them."""

__version__ = "0.1.0"

from charbench.errors import CharbenchError


def open_dataset(path, split: str = "train"):
    """Open one split of a prepared dataset (see :func:`charbench.shards.reader.open_dataset`)."""
    from charbench.shards.reader import open_dataset as _open

    return _open(path, split)


__all__ = ["CharbenchError", "__version__", "open_dataset"]
