"""DeviceLoader (resident and streamed) and ShardDataset against the shards' own contents."""

import pickle

import numpy as np
import pytest
import torch
from synthetic_shards import epoch_batches

from charbench.data import Augment, DeviceLoader, ShardDataset, stats_from_histogram
from charbench.errors import OptionError
from charbench.shards.reader import open_dataset


def _raw(x: torch.Tensor, loader: DeviceLoader) -> np.ndarray:
    """Undo the normalisation: back to uint8 pixel values."""
    return np.rint((x[:, 0].numpy() * loader.std + loader.mean) * 255).astype(np.int64)


@pytest.mark.parametrize("budget", [None, 1], ids=["resident", "stream"])
def test_epoch_yields_every_image_once(reader, budget):
    loader = DeviceLoader(reader, 32, shuffle=True, memory_budget=budget, mean=0.2, std=0.5)
    assert loader.mode == ("stream" if budget else "host")
    x, y = epoch_batches(loader)
    assert x.shape == (230, 1, 16, 16) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert len(loader) == 8
    images = reader.images().reshape(230, -1)
    got = _raw(x, loader).reshape(230, -1)
    # pair every delivered image with its label, compare as multisets with the stored data
    want = sorted(map(tuple, np.column_stack([reader.labels, images]).tolist()))
    assert sorted(map(tuple, np.column_stack([y.numpy(), got]).tolist())) == want


@pytest.mark.parametrize("budget", [None, 1], ids=["resident", "stream"])
def test_shuffle_is_seeded_perepoch_batches(reader, budget):
    a = DeviceLoader(reader, 64, shuffle=True, seed=3, memory_budget=budget)
    b = DeviceLoader(reader, 64, shuffle=True, seed=3, memory_budget=budget)
    assert torch.equal(epoch_batches(a, 0)[1], epoch_batches(b, 0)[1])
    assert not torch.equal(epoch_batches(a, 0)[1], epoch_batches(a, 1)[1])
    plain = DeviceLoader(reader, 64, memory_budget=budget)
    assert torch.equal(epoch_batches(plain)[1], torch.from_numpy(reader.labels.astype(np.int64)))


def test_drop_last(reader):
    loader = DeviceLoader(reader, 100, drop_last=True)
    assert len(loader) == 2 and [len(y) for _, y in loader] == [100, 100]


@pytest.mark.parametrize("budget", [None, 1], ids=["resident", "stream"])
def test_ranks_partition_the_split(reader, budget):
    parts = [DeviceLoader(reader, 16, rank=r, world_size=2, memory_budget=budget) for r in range(2)]
    labels = [epoch_batches(p)[1] for p in parts]
    assert sum(len(y) for y in labels) == 230  # evaluation: each image on exactly one rank
    if budget:  # streamed: whole shards round-robin (shards 0, 2, 4 and 1, 3)
        assert [len(y) for y in labels] == [130, 100]
    even = [
        DeviceLoader(reader, 16, rank=r, world_size=2, even=True, shuffle=True, memory_budget=budget) for r in range(2)
    ]
    assert len({e.num_samples for e in even}) == 1 and len({len(e) for e in even}) == 1
    assert [len(epoch_batches(e)[1]) for e in even] == [even[0].num_samples] * 2


@pytest.mark.parametrize("budget", [None, 1], ids=["resident", "stream"])
def test_even_pads_the_smaller_part_with_its_own_samples_in_both_modes(make_dataset, budget):
    reader = open_dataset(make_dataset(counts={"train": 250}, shard_size=50), "train")  # 5 shards: parts differ
    plain = [DeviceLoader(reader, 16, rank=r, world_size=2, memory_budget=budget) for r in range(2)]
    counts = [p.num_samples for p in plain]
    even = [DeviceLoader(reader, 16, rank=r, world_size=2, even=True, shuffle=True, memory_budget=budget)
            for r in range(2)]
    assert [e.num_samples for e in even] == [max(counts)] * 2  # padded up, never cut
    for p, e in zip(plain, even):
        own = {tuple(row) for row in epoch_batches(p)[0].flatten(1).tolist()}
        got = epoch_batches(e, 3)[0].flatten(1).tolist()
        assert len(got) == max(counts) and {tuple(row) for row in got} == own  # every own image, only own images


def test_pixel_histogram_gives_split_statistics(reader):
    images = reader.images().astype(np.float64) / 255
    for budget in (None, 1):
        mean, std = stats_from_histogram(DeviceLoader(reader, 8, memory_budget=budget).pixel_histogram())
        assert mean == pytest.approx(images.mean()) and std == pytest.approx(images.std())


def test_augment_is_seeded_and_keeps_shape(reader):
    a = DeviceLoader(reader, 64, augment=Augment(), seed=1)
    b = DeviceLoader(reader, 64, augment=Augment(), seed=1)
    plain = DeviceLoader(reader, 64)
    xa, xb, xp = next(iter(a)), next(iter(b)), next(iter(plain))
    assert xa[0].shape == xp[0].shape and torch.equal(xa[1], xp[1])
    assert torch.equal(xa[0], xb[0]) and not torch.allclose(xa[0], xp[0])
    zero = DeviceLoader(reader, 64, augment=Augment(degrees=0, translate=0, scale_low=1, scale_high=1, shear=0))
    assert torch.allclose(next(iter(zero))[0], xp[0], atol=1e-5)  # identity transform changes nothing


def test_bad_options(reader):
    with pytest.raises(OptionError):
        DeviceLoader(reader, 0)
    with pytest.raises(OptionError):
        DeviceLoader(reader, 8, rank=2, world_size=2)
    with pytest.raises(OptionError):
        DeviceLoader(reader, 8, std=0)


def test_shard_dataset_items_and_pickling(make_dataset):
    folder = make_dataset(counts={"train": 120}, shard_size=50)
    reader = open_dataset(folder, "train")
    ds = ShardDataset(folder, "train")
    assert len(ds) == 120
    for i in (0, 49, 50, 119, -1):
        image, label = ds[i]
        assert image.shape == (1, 16, 16) and image.dtype == torch.uint8
        assert np.array_equal(image[0].numpy(), reader.read(i % 120, i % 120 + 1)[0]) and label == reader.labels[i]
    clone = pickle.loads(pickle.dumps(ds))  # open handles are dropped, reopened lazily
    assert torch.equal(clone[60][0], ds[60][0])
    with pytest.raises(IndexError):
        ds[120]
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=10, num_workers=1)))
    assert batch[0].shape == (10, 1, 16, 16)
