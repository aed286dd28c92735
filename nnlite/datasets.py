"""Small generated data sets for demos, examples and tests (no download, no files)."""

from __future__ import annotations

import numpy as np

from .init import check_random_state

__all__ = ["make_spirals"]


def make_spirals(n_per_class=200, n_classes=3, noise=0.2, random_state=0):
    """Interleaved 2-D spirals, one arm per class: a problem no linear model solves.

    Parameters
    ----------
    n_per_class : int, default=200
        Points on each arm.
    n_classes : int, default=3
        Number of arms (classes).
    noise : float, default=0.2
        Standard deviation of the angular noise, in radians.
    random_state : None, int or numpy.random.RandomState, default=0

    Returns
    -------
    X : ndarray of shape (n_per_class * n_classes, 2)
    y : ndarray of shape (n_per_class * n_classes,)
        Class index of every point, 0 to ``n_classes - 1``, in blocks.

    Examples
    --------
    >>> X, y = make_spirals(50, n_classes=2)
    >>> X.shape, sorted(set(y.tolist()))
    ((100, 2), [0, 1])
    """
    rng = check_random_state(random_state)
    X, y = [], []
    for k in range(n_classes):
        r = np.linspace(0.05, 1.0, n_per_class)
        angle = np.linspace(0, 3.5, n_per_class) + 2 * np.pi * k / n_classes
        angle += rng.normal(scale=noise, size=n_per_class)
        X.append(np.c_[r * np.sin(angle), r * np.cos(angle)])
        y.append(np.full(n_per_class, k))
    return np.vstack(X), np.concatenate(y)
