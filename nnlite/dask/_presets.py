"""MLPClassifier and MLPRegressor on dask arrays: fit, predict and score without moving X.

The presets call these when ``X``, ``y`` or ``sample_weight`` is a dask
array.  Label encoding, ``classes_`` and every fitted attribute come from one
pass over the blocks' labels (never from ``X``); L-BFGS then trains on block
sums (:mod:`nnlite.dask._lbfgs`), SGD/Adam stream the blocks
(:mod:`nnlite.dask._stochastic`).
"""

from __future__ import annotations

import numbers

import dask
import dask.array as da
import numpy as np

from .. import _checks, _given_state, exceptions
from .._labels import LabelEncoding, type_of_target, unique_labels
from ..init import check_random_state
from ..training import History
from ._blocks import Blocks, check_block, compute
from ._predict import map_rows
from ._train import train

__all__ = ["fit", "predict", "score"]


def _block_labels(y):
    kind = type_of_target(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return kind, np.arange(y.shape[1])
    return kind, unique_labels(y.reshape(-1))


def find_labels(y):
    """A :class:`LabelEncoding` fitted on the dask array ``y`` with one pass over its blocks."""
    found = compute(*[dask.delayed(_block_labels)(b) for b in y.to_delayed().ravel()])
    kinds = {kind for kind, _ in found}
    if y.ndim == 2 and y.shape[1] > 1:
        if kinds != {"multilabel-indicator"}:
            raise ValueError("Multioutput target data is not supported with label binarization")
        return LabelEncoding().fit(np.eye(y.shape[1], dtype=int))
    return LabelEncoding().fit(unique_labels(np.concatenate([labels for _, labels in found])))


def _target(est, blocks, first_pass):
    """``y`` encoded as the network sees it, 2-D, as a dask array."""
    owner = type(est).__name__
    y = blocks.y
    if y.ndim == 2 and y.shape[1] == 1:
        exceptions.warn(
            exceptions.DataConversionWarning,
            "A column-vector y was passed when a 1d array was expected. Please change the "
            "shape of y to (n_samples, ), for example using ravel().", stacklevel=5)
        y = y[:, 0]
    if est._estimator_type == "regressor":
        if y.dtype.kind not in "biuf":
            raise ValueError(f"{owner}: y must be numeric for regression; got dtype {y.dtype}.")
        y = y.astype(np.float64) if y.dtype.kind != "f" else y
        if est.loss == "poisson":
            low = float(compute(y.min())[0])
            if low < 0:
                raise ValueError("MLPRegressor(loss='poisson') needs non-negative y; got "
                                 f"values down to {low}.")
        return y.reshape(-1, 1) if y.ndim == 1 else y
    labels = find_labels(y)
    if first_pass or not hasattr(est, "classes_"):
        est._labels, est.classes_ = labels, labels.classes_
    elif set(labels.classes_.tolist()) != set(est.classes_.tolist()):
        raise ValueError(
            "warm_start can only be used where `y` has the same classes as in the previous "
            f"call to fit. Previously got {est.classes_}, `y` has {labels.classes_}")
    encoding = est._labels
    width = 1 if len(encoding.classes_) <= 2 and encoding.y_type_ != "multiclass" else len(
        encoding.classes_)
    if encoding.y_type_ == "multilabel-indicator":
        width = y.shape[1]
    return y.map_blocks(encoding.transform, chunks=(y.chunks[0], (width,)), dtype=bool,
                        new_axis=1 if y.ndim == 1 else None,
                        meta=np.empty((0, 0), bool))


def fit(est, X, y, sample_weight=None):
    """``est.fit(X, y, sample_weight)`` for dask arrays (the preset's own checks and numbers)."""
    owner = type(est).__name__
    est._validate_params()
    hidden = est._hidden_sizes()
    # coefs_ set by hand on an unfitted model count as a fitted state (as in memory)
    fitted = hasattr(est, "network_")
    given = not fitted and _given_state.has_coefs(est)
    first_pass = not (fitted or given) or not est.warm_start
    given = given and not first_pass
    if given:
        _given_state.prepare(est)
    if y is None:
        raise ValueError(f"{owner} requires y to be passed, but the target y is None.")
    if isinstance(sample_weight, numbers.Number):
        sample_weight = da.full(np.shape(X)[0], float(sample_weight), chunks=X.chunks[0])
    blocks = Blocks(X, y, sample_weight, owner)
    _checks.check_feature_names(est, X, reset=first_pass)
    if first_pass:
        est.n_features_in_ = blocks.X.shape[1]
    elif blocks.X.shape[1] != est.n_features_in_:
        raise ValueError(f"X has {blocks.X.shape[1]} features, but {owner} is expecting "
                         f"{est.n_features_in_} features as input.")
    target = _target(est, blocks, first_pass)
    rng = check_random_state(est.random_state)
    if first_pass:
        est._initialize(blocks.X, target, hidden, rng)
    elif given:
        _given_state.adopt(est, target, est._build_network)
    est.n_outputs_ = target.shape[1]
    if getattr(est, "class_weight", None) is not None:
        raise ValueError(f"{owner}: class_weight is not supported on dask arrays (its "
                         "'balanced' weights would come from each block); pass the weights "
                         "as sample_weight.")
    if getattr(est, "callbacks", None):
        raise ValueError(f"{owner}: callbacks are not supported on dask arrays.")
    if est.solver == "lbfgs":
        # L-BFGS runs in float64 whatever the input's precision, as in memory
        est.network_ = est.network_.astype(np.float64)
        history = History()
        train(est.network_, blocks.X, target, est._loss(), est._make_optimizer(),
              alpha=est.alpha, sample_weight=blocks.sample_weight, history=history)
        est.n_iter_, est.loss_ = history.n_iter, history.loss
        return est
    _fit_stochastic(est, blocks, target, rng)
    return est


def _fit_stochastic(est, blocks, target, rng):
    from .._sklearn_optimizer import SklearnOptimizerView
    from ..estimators import _ValidationScore

    est._optimizer = SklearnOptimizerView(est._make_optimizer())
    X, w = blocks.X, blocks.sample_weight
    validation = score = None
    if est.early_stopping:
        X, target, w, validation, y_val = _hold_out_blocks(est, blocks, target, rng)
        score = _ValidationScore(est, y_val)
    batch_size = 200 if est.batch_size == "auto" else est.batch_size
    history = est._history
    train(est.network_, X, target, est._loss(), est._optimizer.core, alpha=est.alpha,
          batch_size=batch_size, epochs=est.max_iter, shuffle=est.shuffle, random_state=rng,
          sample_weight=w, tol=est.tol, n_iter_no_change=est.n_iter_no_change,
          validation_data=validation, score=score, history=history,
          verbose=bool(est.verbose))
    est.n_iter_, est.t_, est.loss_ = history.n_iter, history.t, history.loss
    est.loss_curve_ = history.loss_curve
    est._no_improvement_count = history.no_improvement_count
    if est.early_stopping:
        est.validation_scores_ = history.validation_scores
        est.validation_loss_curve_ = history.validation_loss_curve
        est.best_validation_score_ = history.best_validation_score
        est.best_loss_ = None
    else:
        est.validation_scores_ = None
        est.validation_loss_curve_ = None
        est.best_validation_score_ = None
        est.best_loss_ = history.best_loss


def _hold_out_blocks(est, blocks, target, rng):
    """Training blocks, in-memory validation data made of whole blocks, and its target.

    ``ceil(validation_fraction * n_blocks)`` blocks, drawn with ``rng``, are
    held out (at least one block is left to train on).
    """
    n_blocks = len(blocks.bounds)
    n_val = int(np.ceil(est.validation_fraction * n_blocks))
    if n_val >= n_blocks:
        raise ValueError(
            f"{type(est).__name__}: early_stopping on a dask array holds out whole blocks; "
            f"validation_fraction={est.validation_fraction} of {n_blocks} block(s) leaves "
            "none to train on. Use more blocks (rechunk X) or a smaller validation_fraction.")
    chosen = np.sort(rng.permutation(n_blocks)[:n_val])
    keep = np.setdiff1d(np.arange(n_blocks), chosen)

    def pick(a, idx):
        if a is None:
            return None
        parts = [a.blocks[int(i)] for i in idx]
        return da.concatenate(parts, axis=0) if len(parts) > 1 else parts[0]

    X_val, y_val, w_val = compute(*[pick(a, chosen) for a in
                                    (blocks.X, target, blocks.sample_weight)])
    if X_val.shape[0] < 2:
        raise ValueError("The validation set is too small. Increase 'validation_fraction' or "
                         "the size of your dataset.")
    check_block(type(est).__name__, "(validation)", (0, X_val.shape[0]), X_val)
    validation = (X_val, est._validation_target(y_val), w_val)
    return (pick(blocks.X, keep), pick(target, keep), pick(blocks.sample_weight, keep),
            validation, y_val)


def predict(est, X, method):
    """Lazy ``est.<method>(X)`` of a fitted preset: one task per block of rows."""
    est._check_fitted()
    owner = type(est).__name__
    fn = getattr(est, method)
    dtype = np.result_type(X.dtype if X.dtype.kind == "f" else np.float64, est.network_.dtype)
    k = est.n_outputs_
    if method == "predict":
        if est._estimator_type == "regressor":
            return map_rows(fn, X, owner, est.n_features_in_, None if k == 1 else k, dtype)
        if est._labels.y_type_ == "multilabel-indicator":
            return map_rows(fn, X, owner, est.n_features_in_, k, int)
        return map_rows(fn, X, owner, est.n_features_in_, None, est.classes_.dtype)
    return map_rows(fn, X, owner, est.n_features_in_, 2 if k == 1 else k, dtype)


def score(est, X, y, sample_weight=None):
    """Accuracy or R^2 of ``est`` on dask data, as a float (one pass over the blocks)."""
    pred = predict(est, X, "predict")
    y = da.asarray(y) if not hasattr(y, "chunks") else y
    y = y.rechunk((pred.chunks[0],) + tuple((n,) for n in y.shape[1:]))
    w = sample_weight
    if w is not None:
        w = da.asarray(w) if not hasattr(w, "chunks") else w
        w = w.rechunk((pred.chunks[0],))
    if est._estimator_type == "classifier":
        hits = (y == pred).all(axis=1) if y.ndim == 2 and y.shape[1] > 1 else (
            y.reshape(-1) == pred.reshape(-1))
        return float(compute(da.average(hits, weights=w))[0])
    from .._metrics import r2_from_sums

    y_true = y.astype(float)
    if y_true.ndim == 1:
        y_true = y_true.reshape(-1, 1)
    y_pred = pred.reshape(-1, 1) if pred.ndim == 1 else pred
    if y_true.shape[0] < 2:
        return float("nan")
    weight = 1.0 if w is None else w[:, None]
    numerator = (weight * (y_true - y_pred) ** 2).sum(axis=0)
    mean = da.average(y_true, axis=0, weights=w)
    denominator = (weight * (y_true - mean) ** 2).sum(axis=0)
    return r2_from_sums(*compute(numerator, denominator))
