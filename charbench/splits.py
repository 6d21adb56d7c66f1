"""Seeded train / val / test assignment: official, stratified random, or group-disjoint.

Every function returns an int8 array with one code per example: 0 train, 1 val, 2 test
(the positions of ``schema.SPLITS``), -1 for examples no split takes.
"""

from __future__ import annotations

import numpy as np

from charbench.errors import OptionError
from charbench.shards.schema import TEST, TRAIN, VAL

METHODS = ("official", "random", "group")


def parse_fractions(text: str | tuple) -> tuple[float, float, float]:
    """``"0.8,0.1,0.1"`` -> (0.8, 0.1, 0.1); the three must be >= 0 and add up to 1."""
    try:
        parts = [float(p) for p in (text.split(",") if isinstance(text, str) else text)]
    except ValueError:
        parts = []
    if len(parts) != 3 or any(p < 0 for p in parts) or abs(sum(parts) - 1.0) > 1e-6:
        raise OptionError(f"--fractions takes TRAIN,VAL,TEST, each >= 0, adding up to 1; got {text!r}")
    return parts[0], parts[1], parts[2]


def stratified(labels: np.ndarray, fractions, seed: int) -> np.ndarray:
    """Per class, a seeded shuffle cut at the fractions; rounding is settled across classes so totals match too."""
    rng = np.random.default_rng(seed)
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    n_test = _apportion(counts, fractions[2], rng)
    n_val = _apportion(counts, fractions[1], rng)
    n_val = np.minimum(n_val, counts - n_test)
    codes = np.full(len(labels), TRAIN, dtype=np.int8)
    for k in range(len(classes)):
        idx = np.flatnonzero(inverse == k)
        idx = idx[rng.permutation(len(idx))]
        codes[idx[: n_test[k]]] = TEST
        codes[idx[n_test[k] : n_test[k] + n_val[k]]] = VAL
    return codes


def _apportion(counts: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Integer shares of ``fraction`` per class adding up to round(total * fraction) (largest remainder)."""
    exact = counts * fraction
    share = np.floor(exact).astype(np.int64)
    deficit = round(counts.sum() * fraction) - int(share.sum())
    if deficit > 0:
        remainder = exact - share + rng.random(len(counts)) * 1e-6  # seeded tie-break
        share[np.argsort(-remainder, kind="stable")[:deficit]] += 1
    return share


def by_group(labels: np.ndarray, groups: np.ndarray, fractions, seed: int) -> np.ndarray:
    """Whole groups go to one split, cut at the fractions of examples; unknown groups (-1) split stratified."""
    codes = np.full(len(labels), TRAIN, dtype=np.int8)
    known = groups >= 0
    if (~known).any():
        codes[~known] = stratified(labels[~known], fractions, seed)
    if not known.any():
        return codes
    ids, sizes = np.unique(groups[known], return_counts=True)
    order = np.random.default_rng(seed).permutation(len(ids))
    cum = np.cumsum(sizes[order]) / sizes.sum()
    f_train, f_val, _ = fractions
    group_codes = np.where(cum <= f_train + 1e-9, TRAIN, np.where(cum <= f_train + f_val + 1e-9, VAL, TEST))
    _ensure_nonempty(group_codes, fractions)
    lookup = dict(zip(ids[order].tolist(), group_codes.tolist()))
    codes[known] = np.array([lookup[g] for g in groups[known].tolist()], dtype=np.int8)
    return codes


def _ensure_nonempty(group_codes: np.ndarray, fractions) -> None:
    # With few large groups the cumulative cut can leave a requested split empty; move the last groups into it.
    for code in (TEST, VAL):
        if fractions[code] > 0 and not (group_codes == code).any() and (group_codes == TRAIN).sum() > 1:
            group_codes[np.flatnonzero(group_codes == TRAIN)[-1]] = code


def official(labels: np.ndarray, published: np.ndarray, groups: np.ndarray | None, val_fraction: float,
             seed: int) -> np.ndarray:
    """Keep the published partition; when it has no validation split, carve ``val_fraction`` of train as one.

    Validation is carved by group where groups are known (no writer in both), otherwise stratified.
    """
    codes = published.astype(np.int8).copy()
    train = np.flatnonzero(codes == TRAIN)
    if val_fraction > 0 and len(train) and not (codes == VAL).any():
        fr = (1.0 - val_fraction, val_fraction, 0.0)
        if groups is not None and (groups[train] >= 0).any():
            sub = by_group(labels[train], groups[train], fr, seed)
        else:
            sub = stratified(labels[train], fr, seed)
        codes[train[sub == VAL]] = VAL
    return codes


def assign(method: str, labels: np.ndarray, groups: np.ndarray, published: np.ndarray | None, *,
           fractions=(0.8, 0.1, 0.1), val_fraction: float = 0.1, seed: int = 0) -> np.ndarray:
    """Split codes for every example by ``method`` (one of METHODS)."""
    if method == "official":
        if published is None:
            raise OptionError("this source has no published split; use --split random or --split group")
        return official(labels, published, groups, val_fraction, seed)
    if method == "random":
        return stratified(labels, fractions, seed)
    if method == "group":
        return by_group(labels, groups, fractions, seed)
    raise OptionError(f"--split must be one of {', '.join(METHODS)}; got {method!r}")
