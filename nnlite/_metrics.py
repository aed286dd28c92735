"""Scores: accuracy and R^2 (the presets' own), and those the command line reports."""

from __future__ import annotations

import numpy as np

from ._labels import _dense

__all__ = ["accuracy", "r2", "confusion_matrix", "balanced_accuracy", "mean_absolute_error"]


def accuracy(y_true, y_pred, sample_weight=None) -> float:
    """Fraction of samples (rows, for multilabel targets) predicted exactly."""
    y_true, y_pred = _dense(y_true), _dense(y_pred)
    if y_true.ndim == 2 and y_true.shape[1] > 1:
        hits = np.all(y_true == y_pred, axis=1)
    else:
        hits = y_true.reshape(-1) == y_pred.reshape(-1)
    return float(np.average(hits, weights=sample_weight))


def r2(y_true, y_pred, sample_weight=None) -> float:
    """R^2, averaged uniformly over outputs; 1.0 for a perfect fit of a constant target."""
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred)
    if y_true.ndim == 1:
        y_true = y_true.reshape(-1, 1)
    if y_pred.ndim == 1:
        y_pred = y_pred.reshape(-1, 1)
    if len(y_true) < 2:
        return float("nan")
    weight = 1.0 if sample_weight is None else np.asarray(sample_weight)[:, None]
    numerator = np.sum(weight * (y_true - y_pred) ** 2, axis=0)
    mean = np.average(y_true, axis=0, weights=sample_weight)
    denominator = np.sum(weight * (y_true - mean) ** 2, axis=0)
    return r2_from_sums(numerator, denominator)


def r2_from_sums(numerator, denominator) -> float:
    """R^2 from the per-output residual and total sums of squares (used on dask arrays too)."""
    scores = np.ones(numerator.shape[0], dtype=numerator.dtype)
    valid = (denominator != 0) & (numerator != 0)
    scores[valid] = 1 - numerator[valid] / denominator[valid]
    scores[(numerator != 0) & (denominator == 0)] = 0.0
    return float(np.average(scores))


def confusion_matrix(y_true, y_pred, labels) -> np.ndarray:
    """Counts of shape (n_labels, n_labels): row = true label, column = predicted label."""
    index = {label: k for k, label in enumerate(np.asarray(labels).tolist())}
    cm = np.zeros((len(index), len(index)), dtype=np.int64)
    t = np.array([index.get(v, -1) for v in np.asarray(y_true).tolist()], dtype=np.intp)
    p = np.array([index.get(v, -1) for v in np.asarray(y_pred).tolist()], dtype=np.intp)
    ok = (t >= 0) & (p >= 0)
    np.add.at(cm, (t[ok], p[ok]), 1)
    return cm


def balanced_accuracy(y_true, y_pred) -> float:
    """Mean recall over the classes present in ``y_true``."""
    labels = np.unique(np.r_[np.asarray(y_true), np.asarray(y_pred)])
    cm = confusion_matrix(y_true, y_pred, labels)
    support = cm.sum(axis=1)
    present = support > 0
    return float(np.mean(np.diag(cm)[present] / support[present]))


def mean_absolute_error(y_true, y_pred) -> float:
    """Mean of ``|y_true - y_pred|``."""
    return float(np.mean(np.abs(np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float))))
