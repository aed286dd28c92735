"""Weights set by hand on an unfitted preset, honoured as scikit-learn 1.9.1 honours them.

Code written for scikit-learn initialises a network by assigning ``coefs_``,
``intercepts_`` and the bookkeeping attributes on an unfitted estimator, then
calls ``partial_fit`` (or ``fit`` with ``warm_start=True``).  scikit-learn then
skips its initialisation and trains from those values, reading the attributes
listed in :func:`required`; nnlite does the same, draws nothing from the random
state for them (so the shuffles match scikit-learn's), and says which attribute
is missing instead of failing inside the training loop.
"""

from __future__ import annotations

import numpy as np

from ._labels import LabelEncoding
from ._sklearn_optimizer import is_stochastic as _is_stochastic
from .training import History

__all__ = ["given", "has_coefs", "store", "forget", "required", "prepare", "adopt"]

#: Where a hand-set ``coefs_``/``intercepts_`` waits for the next fit.
_SLOT = {"coefs_": "_given_coefs", "intercepts_": "_given_intercepts"}


def given(est, attr):
    """The list set by hand for ``attr`` on an unfitted estimator (AttributeError if none)."""
    try:
        return est.__dict__[_SLOT[attr]]
    except KeyError:
        raise AttributeError(f"{type(est).__name__!r} object has no attribute {attr!r}") from None


def has_coefs(est):
    return _SLOT["coefs_"] in est.__dict__


def store(est, attr, values):
    est.__dict__[_SLOT[attr]] = list(values)


def forget(est):
    for slot in _SLOT.values():
        est.__dict__.pop(slot, None)


def required(est):
    """The attributes scikit-learn reads when it continues from hand-set weights."""
    names = ["coefs_", "intercepts_", "n_layers_", "out_activation_"]
    if _is_stochastic(est.solver):
        # _no_improvement_count is not among them: scikit-learn sets it to 0 without
        # reading it when the first epoch improves on best_loss_ (it does on numpy.inf)
        names += ["t_", "loss_curve_"]
        names += (["validation_scores_", "best_validation_score_"] if est.early_stopping
                  else ["best_loss_"])
    return names


def prepare(est):
    """Check the hand-set state before the data is validated against it.

    Sets ``n_features_in_`` from ``coefs_[0]`` (so ``X`` is checked against it)
    and, for a classifier given ``classes_``, its label encoding from a
    scikit-learn ``_label_binarizer``.
    """
    owner = type(est).__name__
    missing = [name for name in required(est) if not hasattr(est, name)]
    if missing:
        raise AttributeError(
            f"{owner}: coefs_/intercepts_ set on an unfitted model are trained from only "
            f"when the rest of the fitted state is set too, as scikit-learn requires; "
            f"missing: {', '.join(missing)}. For a new network that is n_layers_ = "
            "len(coefs_) + 1, out_activation_ (e.g. 'identity', 'logistic', 'softmax'), "
            "t_ = 0, loss_curve_ = [] and best_loss_ = numpy.inf "
            "(validation_scores_ = [] and best_validation_score_ = -numpy.inf with early "
            "stopping)."
        )
    coefs, intercepts = _arrays(est)
    est.n_features_in_ = coefs[0].shape[0]
    if hasattr(est, "classes_") and "_labels" not in est.__dict__:
        binarizer = getattr(est, "_label_binarizer", None)
        if binarizer is None:
            raise AttributeError(
                f"{owner}: classes_ was set on an unfitted model without the "
                "_label_binarizer scikit-learn needs with it; set a fitted "
                "sklearn.preprocessing.LabelBinarizer as _label_binarizer, or leave classes_ "
                "unset and pass classes= to the first partial_fit."
            )
        labels = LabelEncoding()
        labels.y_type_, labels.classes_ = binarizer.y_type_, np.asarray(binarizer.classes_)
        labels.sparse_input_ = bool(getattr(binarizer, "sparse_input_", False))
        est._labels = labels


def _arrays(est):
    owner = type(est).__name__
    coefs = [np.asarray(c) for c in given(est, "coefs_")]
    intercepts = [np.asarray(b) for b in given(est, "intercepts_")]
    shapes = f"coefs_ {[c.shape for c in coefs]}, intercepts_ {[b.shape for b in intercepts]}"
    chained = all(a.shape[1] == b.shape[0] for a, b in zip(coefs, coefs[1:]))
    if (not coefs or len(coefs) != len(intercepts) or not chained
            or any(c.ndim != 2 or b.shape != (c.shape[1],) for c, b in zip(coefs, intercepts))
            or any(a.dtype.kind != "f" for a in coefs + intercepts)):
        raise ValueError(
            f"{owner}: coefs_ must be a list of 2-D float arrays (n_in, n_out), each n_out "
            f"the next n_in, and intercepts_ one 1-D array (n_out,) per coef; got {shapes}.")
    if est.n_layers_ != len(coefs) + 1:
        raise ValueError(f"{owner}: n_layers_ is {est.n_layers_} but {len(coefs)} weight "
                         f"matrices make {len(coefs) + 1} layers.")
    return coefs, intercepts


def adopt(est, y, build_network):
    """Build ``network_`` from the hand-set state; ``y`` is the encoded target (2-D).

    ``build_network(widths, out_activation, n_in, dtype)`` makes the estimator's
    network without drawing from the fit's random state.
    """
    owner = type(est).__name__
    coefs, intercepts = _arrays(est)
    if coefs[-1].shape[1] != y.shape[1]:
        raise ValueError(f"{owner}: the last of coefs_ has {coefs[-1].shape[1]} outputs, but "
                         f"the target needs {y.shape[1]}.")
    expected = est._output_activation(y)
    if est.out_activation_ != expected:
        raise ValueError(f"{owner}: out_activation_ must be {expected!r} for this target; "
                         f"got {est.out_activation_!r}.")
    all_32 = all(a.dtype == np.float32 for a in coefs + intercepts)
    net = build_network([c.shape[1] for c in coefs], expected, coefs[0].shape[0],
                        np.float32 if all_32 else np.float64)
    est.network_ = net
    est.coefs_, est.intercepts_ = coefs, intercepts  # copied into the network
    forget(est)
    est.t_ = getattr(est, "t_", 0)  # L-BFGS needs none; saving the model does
    history = History(t=est.t_, n_iter=getattr(est, "n_iter_", 0))
    if _is_stochastic(est.solver):
        # the same list object: scikit-learn appends to the one it was given
        history.loss_curve = est.loss_curve_ if isinstance(est.loss_curve_, list) \
            else list(est.loss_curve_)
        history.no_improvement_count = getattr(est, "_no_improvement_count", 0)
        if est.early_stopping:
            history.validation_scores = est.validation_scores_
            history.best_validation_score = est.best_validation_score_
            history.best_theta = net.theta.copy()
        else:
            history.best_loss = est.best_loss_
    est._history = history
