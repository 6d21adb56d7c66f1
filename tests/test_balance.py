import numpy as np
import pytest

from charbench.balance import RESAMPLERS, resample
from charbench.errors import OptionError


def _labels():
    return np.repeat(np.arange(4), [1000, 120, 7, 1])


def test_both_gives_exactly_n_per_class():
    labels = _labels()
    res = resample(labels, target=50, mode="both", seed=0)
    assert np.bincount(labels[res.indices]).tolist() == [50, 50, 50, 50]
    # originals first for each class; copies are numbered and point to real originals
    for cls in range(4):
        picked = res.indices[labels[res.indices] == cls]
        assert len(np.unique(picked)) == min(50, (labels == cls).sum())
    assert (res.variants[labels[res.indices] == 0] == 0).all()
    assert res.variants[labels[res.indices] == 3].tolist() == list(range(50))


def test_copies_are_unique_pairs_and_spread_evenly():
    labels = _labels()
    res = resample(labels, target=50, mode="both", seed=0)
    pairs = set(zip(res.indices.tolist(), res.variants.tolist()))
    assert len(pairs) == len(res.indices)
    small = res.indices[labels[res.indices] == 2]
    assert np.bincount(small).max() - np.bincount(small)[np.unique(small)].min() <= 1


def test_cap_and_oversample_modes():
    labels = _labels()
    capped = resample(labels, target=50, mode="cap", seed=0)
    assert np.bincount(labels[capped.indices]).tolist() == [50, 50, 7, 1]
    assert (capped.variants == 0).all()
    filled = resample(labels, target=50, mode="oversample", seed=0)
    assert np.bincount(labels[filled.indices]).tolist() == [1000, 120, 50, 50]


def test_min_count_drops_small_classes_and_seed_changes_choice():
    labels = _labels()
    res = resample(labels, target=50, min_count=5, seed=0)
    assert res.dropped_classes == [3]
    assert 3 not in labels[res.indices]
    other = resample(labels, target=50, min_count=5, seed=1)
    assert not np.array_equal(res.indices, other.indices)
    np.testing.assert_array_equal(res.indices, resample(labels, target=50, min_count=5, seed=0).indices)


def test_errors():
    with pytest.raises(OptionError):
        resample(_labels(), target=0)
    with pytest.raises(KeyError):
        resample(_labels(), target=5, mode="nope")
    assert RESAMPLERS.names() == ["both", "cap", "oversample"]
