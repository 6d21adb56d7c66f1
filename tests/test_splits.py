import numpy as np
import pytest

from charbench import splits
from charbench.errors import OptionError


def test_stratified_fractions_per_class():
    labels = np.repeat(np.arange(5), 100)
    codes = splits.stratified(labels, (0.8, 0.1, 0.1), seed=3)
    for c in range(5):
        counts = np.bincount(codes[labels == c], minlength=3)
        assert counts.tolist() == [80, 10, 10]
    assert not np.array_equal(codes, splits.stratified(labels, (0.8, 0.1, 0.1), seed=4))
    np.testing.assert_array_equal(codes, splits.stratified(labels, (0.8, 0.1, 0.1), seed=3))


def test_group_split_is_disjoint_and_near_fractions():
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 50, 2000).astype(np.int32)
    labels = rng.integers(0, 10, 2000)
    codes = splits.by_group(labels, groups, (0.7, 0.15, 0.15), seed=1)
    for g in np.unique(groups):
        assert len(np.unique(codes[groups == g])) == 1
    share = np.bincount(codes, minlength=3) / len(codes)
    assert abs(share[0] - 0.7) < 0.1 and share[1] > 0 and share[2] > 0


def test_group_split_unknown_groups_fall_back_to_stratified():
    labels = np.repeat(np.arange(2), 50)
    groups = np.full(100, -1, np.int32)
    codes = splits.by_group(labels, groups, (0.8, 0.1, 0.1), seed=0)
    assert np.bincount(codes, minlength=3).tolist() == [80, 10, 10]


def test_group_split_few_groups_fills_every_split():
    labels = np.zeros(30, int)
    groups = np.repeat(np.arange(3), 10).astype(np.int32)
    codes = splits.by_group(labels, groups, (0.8, 0.1, 0.1), seed=0)
    assert set(codes.tolist()) == {0, 1, 2}


def test_official_carves_val_from_train_only():
    labels = np.tile(np.arange(10), 20)
    official = np.array([0] * 150 + [2] * 50, np.int8)
    codes = splits.official(labels, official, None, 0.2, seed=0)
    assert (codes[150:] == 2).all()
    assert (codes[:150] == 1).sum() == pytest.approx(30, abs=5)


def test_official_val_by_writer():
    labels = np.zeros(200, int)
    groups = np.repeat(np.arange(20), 10).astype(np.int32)
    codes = splits.official(labels, np.zeros(200, np.int8), groups, 0.2, seed=0)
    for g in range(20):
        assert len(np.unique(codes[groups == g])) == 1


@pytest.mark.parametrize("text", ["0.8,0.1", "0.5,0.5,0.5", "a,b,c", "-0.1,0.6,0.5"])
def test_bad_fractions(text):
    with pytest.raises(OptionError):
        splits.parse_fractions(text)


def test_official_without_published_split():
    with pytest.raises(OptionError, match="no published split"):
        splits.assign("official", np.zeros(3, int), np.zeros(3, np.int32), None)
