"""N-way K-shot episode sampler: shapes, relabelling, disjointness, reproducibility, eligibility errors."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from charbench.episodes import Episode, EpisodeSampler
from charbench.errors import OptionError

LABELS = np.repeat(np.arange(10), [20] * 8 + [3, 5])  # classes 8 and 9 are small


def test_episode_shapes_labels_and_membership():
    sampler = EpisodeSampler(LABELS, n_way=5, k_shot=2, q_queries=4, seed=0)
    for i in range(20):
        ep = sampler.episode(i)
        assert isinstance(ep, Episode)
        assert ep.support_idx.shape == (10,) and ep.query_idx.shape == (20,)
        assert ep.support_labels.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
        assert ep.query_labels.tolist() == np.repeat(np.arange(5), 4).tolist()
        original = sampler.classes(i)
        assert len(set(original.tolist())) == 5
        np.testing.assert_array_equal(LABELS[ep.support_idx], original[ep.support_labels])
        np.testing.assert_array_equal(LABELS[ep.query_idx], original[ep.query_labels])
        both = np.concatenate([ep.support_idx, ep.query_idx])
        assert len(np.unique(both)) == len(both)  # no example in support and query, none twice


def test_same_seed_same_episodes_any_order():
    a = EpisodeSampler(LABELS, 3, 1, 5, seed=7, num_episodes=30)
    b = EpisodeSampler(LABELS.copy(), 3, 1, 5, seed=7)
    forward = list(a)
    assert len(forward) == len(a) == 30
    for i in reversed(range(30)):  # episode i does not depend on the episodes before it
        for x, y in zip(forward[i], b.episode(i)):
            np.testing.assert_array_equal(x, y)
    c = EpisodeSampler(LABELS, 3, 1, 5, seed=8)
    assert any(not np.array_equal(forward[i].support_idx, c.episode(i).support_idx) for i in range(5))
    assert len({tuple(e.support_idx.tolist()) for e in forward}) > 20  # episodes vary


def test_small_classes_excluded_and_clear_error():
    sampler = EpisodeSampler(LABELS, n_way=8, k_shot=1, q_queries=5, seed=0)
    assert sampler.eligible.tolist() == list(range(8))
    assert not {8, 9} & {int(c) for i in range(20) for c in sampler.classes(i)}
    loose = EpisodeSampler(LABELS, n_way=9, k_shot=1, q_queries=4, seed=0)
    assert 9 in loose.eligible and 8 not in loose.eligible
    with pytest.raises(OptionError, match=r"need 9 classes with >= 6 examples each; only 8 of 10 .* <= 5"):
        EpisodeSampler(LABELS, n_way=9, k_shot=1, q_queries=5, seed=0)
    with pytest.raises(OptionError, match="only 10 classes: lower n_way"):
        EpisodeSampler(LABELS, n_way=11, k_shot=1, q_queries=0, seed=0)


@pytest.mark.parametrize(
    "kw", [{"n_way": 0}, {"k_shot": 0}, {"q_queries": -1}, {"n_way": 2.5}, {"k_shot": True}, {"num_episodes": -1}]
)
def test_bad_counts(kw):
    args = {"n_way": 2, "k_shot": 1, "q_queries": 1, **kw}
    with pytest.raises(OptionError):
        EpisodeSampler(LABELS, seed=0, **args)


def test_reader_variants_never_drawn_and_endless_iteration():
    labels = np.repeat(np.arange(4), 6)
    variants = np.tile([0, 0, 0, 1, 2, 3], 4)  # 3 originals per class, 3 varied copies
    reader = SimpleNamespace(labels=labels.astype(np.int32), variants=variants.astype(np.int32))
    sampler = EpisodeSampler(reader, n_way=4, k_shot=1, q_queries=2, seed=1)
    episodes = iter(sampler)
    for _ in range(25):
        ep = next(episodes)
        assert (variants[np.concatenate([ep.support_idx, ep.query_idx])] == 0).all()
    with pytest.raises(TypeError, match="endless"):
        len(sampler)
    with pytest.raises(OptionError, match=r">= 4 examples"):
        EpisodeSampler(reader, n_way=2, k_shot=2, q_queries=2, seed=0)


def test_labels_validated_and_query_free_episodes():
    with pytest.raises(OptionError, match="1-D integer"):
        EpisodeSampler(np.zeros((3, 2), int), 1, 1, 0)
    with pytest.raises(OptionError, match="1-D integer"):
        EpisodeSampler(np.array([0.5, 1.5]), 1, 1, 0)
    ep = EpisodeSampler([5, 5, 7], n_way=2, k_shot=1, q_queries=0, seed=0).episode(3)
    assert ep.query_idx.shape == (0,) and sorted(np.array([5, 5, 7])[ep.support_idx].tolist()) == [5, 7]
    with pytest.raises(OptionError, match="start at 0"):
        EpisodeSampler([5, 5, 7], n_way=2, k_shot=1, q_queries=0).episode(-1)
