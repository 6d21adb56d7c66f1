"""N-way K-shot episodes over a prepared split, for few-shot evaluation (Omniglot's classic protocol).

An episode picks ``n_way`` classes, then ``k_shot`` support and ``q_queries`` query examples of each, all distinct.
Episode ``i`` depends only on ``(seed, i)``, so a run can be resumed, parallelised or repeated exactly::

    from charbench.episodes import EpisodeSampler
    from charbench.shards.reader import open_dataset

    test = open_dataset("prepared/omniglot-eval", "test")       # character-level shards
    images = test.images()
    sampler = EpisodeSampler(test, n_way=5, k_shot=1, q_queries=15, seed=0, num_episodes=600)
    for support_idx, support_labels, query_idx, query_labels in sampler:
        model.adapt(images[support_idx], support_labels)        # labels are 0..n_way-1 within the episode
        accuracy = (model.predict(images[query_idx]) == query_labels).mean()

Indices are positions in the split (``reader.labels[idx]``, ``images[idx]``). Support and query are ordered class by
class, in the episode's class order; ``sampler.classes(i)`` gives the original class ids of episode ``i``. Examples
made by balancing (``variants > 0``, varied copies of another example) are never drawn, since a copy in the support
set and its original in the query set would make the task trivial. The usual Omniglot protocol draws episodes from
characters never trained on: prepare the evaluation set (``--set evaluation --label character``) and sample from
any of its splits, or from the ``test`` split of ``--set all --split official``.

numpy only: nothing here imports torch.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from charbench.errors import OptionError


class Episode(NamedTuple):
    support_idx: np.ndarray  # int64 [n_way * k_shot], positions in the split
    support_labels: np.ndarray  # int64 [n_way * k_shot], 0..n_way-1
    query_idx: np.ndarray  # int64 [n_way * q_queries]
    query_labels: np.ndarray  # int64 [n_way * q_queries]


class EpisodeSampler:
    """Seeded, reproducible N-way K-shot episodes.

    Args:
        reader_or_labels: A :class:`~charbench.shards.reader.SplitReader` (its ``labels``, and ``variants`` to leave
            varied copies out) or a 1-D array of integer class labels.
        n_way: Classes per episode.
        k_shot: Support examples per class.
        q_queries: Query examples per class (0 allowed: support only).
        seed: Episode ``i`` is drawn from ``numpy.random.default_rng([seed, i])``.
        num_episodes: How many episodes iteration yields; None iterates forever.

    Raises:
        OptionError: Counts out of range, or fewer than ``n_way`` classes with ``k_shot + q_queries`` examples (the
            message says how many classes qualify, and how far K + Q would have to drop).
    """

    def __init__(
        self, reader_or_labels, n_way: int, k_shot: int, q_queries: int, seed: int = 0, num_episodes: int | None = None
    ):
        labels, usable = _labels_of(reader_or_labels)
        for name, value, low in (("n_way", n_way, 1), ("k_shot", k_shot, 1), ("q_queries", q_queries, 0)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise OptionError(f"{name} must be an integer >= {low}, got {value!r}")
        if num_episodes is not None and (not isinstance(num_episodes, (int, np.integer)) or num_episodes < 0):
            raise OptionError(f"num_episodes must be a non-negative integer or None, got {num_episodes!r}")
        self.n_way, self.k_shot, self.q_queries = int(n_way), int(k_shot), int(q_queries)
        self.seed, self.num_episodes = int(seed), num_episodes
        positions = np.flatnonzero(usable)
        order = np.argsort(labels[positions], kind="stable")
        positions = positions[order]
        classes, starts, counts = np.unique(labels[positions], return_index=True, return_counts=True)
        need = self.k_shot + self.q_queries
        keep = counts >= need
        if keep.sum() < self.n_way:
            raise OptionError(
                f"{self.n_way}-way {self.k_shot}-shot episodes with {self.q_queries} queries need {self.n_way} "
                f"classes with >= {need} examples each; only {int(keep.sum())} of {len(classes)} classes qualify"
                + _hint(counts, self.n_way)
            )
        self.eligible = classes[keep].astype(np.int64)  # original class ids that episodes draw from
        self._starts, self._counts = starts[keep], counts[keep]
        self._positions = positions

    def __len__(self) -> int:
        if self.num_episodes is None:
            raise TypeError("an EpisodeSampler without num_episodes is endless")
        return self.num_episodes

    def __iter__(self) -> Iterator[Episode]:
        i = 0
        while self.num_episodes is None or i < self.num_episodes:
            yield self.episode(i)
            i += 1

    def classes(self, i: int) -> np.ndarray:
        """Original class ids of episode ``i``, in episode label order (episode label ``j`` is ``classes(i)[j]``)."""
        return self.eligible[self._pick(np.random.default_rng([self.seed, int(i)]))]

    def episode(self, i: int) -> Episode:
        """Episode number ``i`` (any non-negative integer), the same every time for the same seed."""
        if i < 0:
            raise OptionError(f"episode numbers start at 0, got {i}")
        rng = np.random.default_rng([self.seed, int(i)])
        chosen = self._pick(rng)
        k, q = self.k_shot, self.q_queries
        support = np.empty((self.n_way, k), np.int64)
        query = np.empty((self.n_way, q), np.int64)
        for j, c in enumerate(chosen.tolist()):
            draw = rng.choice(int(self._counts[c]), k + q, replace=False)
            members = self._positions[self._starts[c] + draw]
            support[j], query[j] = members[:k], members[k:]
        episode_labels = np.arange(self.n_way, dtype=np.int64)
        return Episode(support.ravel(), np.repeat(episode_labels, k), query.ravel(), np.repeat(episode_labels, q))

    def _pick(self, rng: np.random.Generator) -> np.ndarray:
        return rng.choice(len(self.eligible), self.n_way, replace=False)


def _labels_of(source) -> tuple[np.ndarray, np.ndarray]:
    """(labels, usable mask) of a SplitReader or a label array."""
    labels = getattr(source, "labels", source)
    labels = np.asarray(labels)
    if labels.ndim != 1 or not (np.issubdtype(labels.dtype, np.integer) or len(labels) == 0):
        raise OptionError(f"episode labels must be a 1-D integer array, got {labels.dtype} {labels.shape}")
    variants = getattr(source, "variants", None)
    usable = np.ones(len(labels), bool) if variants is None else np.asarray(variants) == 0
    return labels.astype(np.int64), usable


def _hint(counts: np.ndarray, n_way: int) -> str:
    if len(counts) < n_way:
        return f"; the split has only {len(counts)} classes: lower n_way"
    best = int(np.sort(counts)[::-1][n_way - 1])
    return f"; lower k_shot + q_queries to <= {best}, or n_way"
