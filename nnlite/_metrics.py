"""The two scores the presets report: accuracy and the coefficient of determination."""

from __future__ import annotations

import numpy as np

from ._labels import _dense

__all__ = ["accuracy", "r2"]


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
