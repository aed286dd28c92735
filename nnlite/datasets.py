"""Small generated data sets for demos, examples and tests (no download, no files)."""

from __future__ import annotations

import numpy as np

from .init import check_random_state

__all__ = ["make_spirals", "make_moons", "make_circles"]


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


def make_moons(n_samples=200, noise=0.2, random_state=0):
    """Two interleaved half circles, one per class.

    Parameters
    ----------
    n_samples : int, default=200
        Points in all; classes alternate (0, 1, 0, ...).
    noise : float, default=0.2
        Standard deviation of the Gaussian noise added to every coordinate.
    random_state : None, int or numpy.random.RandomState, default=0

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,)

    Examples
    --------
    >>> X, y = make_moons(10)
    >>> X.shape, y[:4].tolist()
    ((10, 2), [0, 1, 0, 1])
    """
    rng = check_random_state(random_state)
    t = rng.uniform(0, np.pi, n_samples)
    y = np.arange(n_samples) % 2
    X = np.where(y[:, None] == 0, np.c_[np.cos(t), np.sin(t)],
                 np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    return X + rng.normal(scale=noise, size=X.shape), y


def make_circles(n_samples=200, noise=0.1, factor=0.5, random_state=0):
    """A small circle (class 1) inside a large one (class 0).

    Parameters
    ----------
    n_samples : int, default=200
        Points in all; classes alternate (0, 1, 0, ...).
    noise : float, default=0.1
        Standard deviation of the Gaussian noise added to every coordinate.
    factor : float, default=0.5
        Radius of the inner circle relative to the outer one.
    random_state : None, int or numpy.random.RandomState, default=0

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,)
    """
    rng = check_random_state(random_state)
    t = rng.uniform(0, 2 * np.pi, n_samples)
    y = np.arange(n_samples) % 2
    r = np.where(y == 0, 1.0, factor)
    X = np.c_[r * np.cos(t), r * np.sin(t)]
    return X + rng.normal(scale=noise, size=X.shape), y
