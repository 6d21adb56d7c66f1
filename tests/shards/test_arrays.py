import numpy as np

from charbench.shards.arrays import write_arrays
from charbench.shards.reader import open_dataset
from charbench.shards.verify import verify_dataset


def test_arrays_round_trip_and_verify(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (25, 12, 12), dtype=np.uint8)
    labels = rng.integers(0, 3, 25).astype(np.int32)
    path = write_arrays(tmp_path / "mine", {"train": (images, labels), "test": (images[:5], labels[:5])},
                        ["a", "b", "c"], shard_size=10)
    assert verify_dataset(path) == []
    train = open_dataset(path, "train")
    assert train.shard_counts == [10, 10, 5] and train.class_names == ["a", "b", "c"]
    np.testing.assert_array_equal(train.images(), images)
    np.testing.assert_array_equal(train.labels, labels)
