"""The early-stopping split: a random or a class-stratified hold-out set.

The random draws follow a fixed recipe (one permutation for a plain split;
for a stratified one, per-class counts by largest remainder with random tie
breaks, a permutation per class, then a permutation of each side), so a split
is reproducible from the random state alone.
"""

from __future__ import annotations

import numpy as np

__all__ = ["validation_split"]


def _sizes(n, fraction):
    n_test = int(np.ceil(fraction * n))
    n_train = n - n_test
    if n_test == 0 or n_train <= 0:
        raise ValueError(
            f"validation_fraction={fraction} leaves no sample on one side of the split of "
            f"{n} samples; choose a fraction in (0, 1) that keeps at least one sample on each."
        )
    return n_train, n_test


def _largest_remainder(counts, n_draws, rng):
    """Per-class draws proportional to ``counts`` summing to ``n_draws``; ties broken at random."""
    continuous = counts / counts.sum() * n_draws
    floored = np.floor(continuous)
    need = int(n_draws - floored.sum())
    if need > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (inds,) = np.where(remainder == value)
            take = min(len(inds), need)
            floored[rng.choice(inds, size=take, replace=False)] += 1
            need -= take
            if need == 0:
                break
    return floored.astype(int)


def validation_split(n, fraction, rng, strata=None, strata_names=None):
    """Indices ``(train, validation)`` of ``n`` samples.

    Parameters
    ----------
    n : int
    fraction : float in (0, 1)
        Share of the samples held out (rounded up).
    rng : numpy.random.RandomState
    strata : ndarray of shape (n,) of int, optional
        Class index of every sample; each class is then split in proportion.
    strata_names : sequence, optional
        Names of the classes, for the error message.
    """
    n_train, n_test = _sizes(n, fraction)
    if strata is None:
        perm = rng.permutation(n)
        return perm[n_test:], perm[:n_test]
    classes, y_idx, counts = np.unique(strata, return_inverse=True, return_counts=True)
    if counts.min() < 2:  # scikit-learn's StratifiedShuffleSplit messages, word for word
        names = classes if strata_names is None else np.asarray(strata_names)[classes]
        raise ValueError(
            "The least populated classes in y have only 1 member, which is too few. The "
            "minimum number of groups for any class cannot be less than 2. Classes with too "
            f"few members are: {names[counts < 2].tolist()}"
        )
    for side, size in (("train", n_train), ("test", n_test)):
        if size < len(classes):
            raise ValueError(f"The {side}_size = {size} should be greater or equal to the "
                             f"number of classes = {len(classes)}")
    per_class = np.split(np.argsort(y_idx, kind="stable"), np.cumsum(counts)[:-1])
    n_i = _largest_remainder(counts, n_train, rng)
    t_i = _largest_remainder(counts - n_i, n_test, rng)
    train, test = [], []
    for i in range(len(classes)):
        members = per_class[i].take(rng.permutation(counts[i]), mode="clip")
        train.extend(members[: n_i[i]])
        test.extend(members[n_i[i]: n_i[i] + t_i[i]])
    return rng.permutation(train), rng.permutation(test)
