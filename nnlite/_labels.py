"""Classification targets: what kind they are, and their 0/1 encoding.

A small, self-contained equivalent of the label handling the presets need:
binary, multiclass and multilabel-indicator targets, string or numeric labels.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

__all__ = ["type_of_target", "LabelEncoding"]


def _is_integral_float(y):
    return y.dtype.kind == "f" and np.all(np.mod(y, 1) == 0)


def _dense(y):
    return y.toarray() if sparse.issparse(y) else np.asarray(y)


def type_of_target(y) -> str:
    """One of ``'binary'``, ``'multiclass'``, ``'multilabel-indicator'``,
    ``'multiclass-multioutput'``, ``'continuous'``, ``'continuous-multioutput'``."""
    y = _dense(y)
    if y.ndim == 2 and y.shape[1] > 1:
        if y.dtype.kind in "biuf" and y.size and np.isin(y, (0, 1)).all():
            return "multilabel-indicator"
        if y.dtype.kind == "f" and not _is_integral_float(y):
            return "continuous-multioutput"
        return "multiclass-multioutput"
    y = y.reshape(-1)
    if y.dtype.kind == "f" and not _is_integral_float(y):
        return "continuous"
    return "binary" if len(np.unique(y)) <= 2 else "multiclass"


def unique_labels(y) -> np.ndarray:
    """Sorted distinct labels; refuses a mix of strings and numbers."""
    y = np.asarray(y)
    if y.dtype == object:
        kinds = {isinstance(v, str) for v in y.ravel()}
        if len(kinds) > 1:
            raise ValueError("Mix of label input types (string and number)")
    return np.unique(y)


class LabelEncoding:
    """Labels <-> 0/1 indicator columns, the way the presets' output layer sees them.

    Binary targets get one column (1 for the larger label), multiclass targets
    one column per class, multilabel-indicator targets are kept as they are.
    A sparse multilabel target (or ``sparse_input=True`` for one already made
    dense) gets its predictions back as a ``scipy.sparse.csr_matrix``.
    """

    def fit(self, y, sparse_input=False):
        self.sparse_input_ = bool(sparse_input or sparse.issparse(y))
        y = _dense(y)
        self.y_type_ = type_of_target(y)
        if self.y_type_ == "multiclass-multioutput":
            raise ValueError("Multioutput target data is not supported with label binarization")
        if self.y_type_.startswith("continuous"):
            raise ValueError(f"Unknown label type: {self.y_type_}. Maybe you are trying to fit "
                             "a classifier, which expects discrete classes on a regression "
                             "target with continuous values.")
        if self.y_type_ == "multilabel-indicator":
            self.classes_ = np.arange(np.asarray(y).shape[1])
        else:
            self.classes_ = unique_labels(np.asarray(y).reshape(-1))
        return self

    def transform(self, y) -> np.ndarray:
        y = np.asarray(y)
        if self.y_type_ == "multilabel-indicator":
            return y.astype(bool)
        y = y.reshape(-1)
        if len(self.classes_) <= 2 and self.y_type_ != "multiclass":
            if len(self.classes_) == 1:
                return np.zeros((len(y), 1), dtype=bool)
            return (y == self.classes_[1]).reshape(-1, 1)
        return y.reshape(-1, 1) == self.classes_.reshape(1, -1)

    def inverse_transform(self, scores, dense=False) -> np.ndarray:
        """Labels from output-layer probabilities (threshold 0.5, or the row's argmax).

        Sparse for a sparse multilabel target, as scikit-learn's ``LabelBinarizer``,
        unless ``dense`` (what the validation scores use).
        """
        if self.y_type_ == "multilabel-indicator":
            indicator = (scores > 0.5).astype(int)
            # pickles made before the flag existed read as dense
            if dense or not getattr(self, "sparse_input_", False):
                return indicator
            return sparse.csr_matrix(indicator)
        if scores.shape[1] == 1:
            if len(self.classes_) == 1:
                return np.repeat(self.classes_[0], len(scores))
            return self.classes_[(scores.ravel() > 0.5).astype(int)]
        return self.classes_.take(scores.argmax(axis=1), mode="clip")
