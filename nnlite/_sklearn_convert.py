"""Fitted presets to and from scikit-learn's ``MLPClassifier``/``MLPRegressor``.

Everything a fitted scikit-learn MLP holds is carried across: hyperparameters,
weights, fitted attributes, the training history that later fits read
(``loss_curve_``, ``best_loss_``, ``_no_improvement_count``, ``t_``, the best
weights of early stopping) and the optimizer's running state (SGD's velocities
and current learning rate, Adam's step count and moments), so predictions are
equal to the bit and further ``partial_fit`` or warm-started ``fit`` calls
continue exactly as the original would.  scikit-learn is imported only by
these two calls.
"""

from __future__ import annotations

import copy
import inspect

import numpy as np

from . import exceptions
from ._labels import LabelEncoding
from ._sklearn_optimizer import SklearnOptimizerView
from .estimators import _HIDDEN, _OUTPUT, MLPClassifier, MLPRegressor, _BaseMLP
from .layers import Dense
from .optimizers import SGD, Adam
from .training import History

__all__ = ["from_sklearn", "to_sklearn"]

_COMMON = ("n_features_in_", "n_outputs_", "n_layers_", "out_activation_", "n_iter_", "t_")
_STOCHASTIC = ("loss_curve_", "best_loss_", "validation_scores_", "best_validation_score_")


def _sklearn_classes():
    try:
        from sklearn.neural_network import MLPClassifier as SkClassifier
        from sklearn.neural_network import MLPRegressor as SkRegressor
    except ImportError as exc:
        raise ImportError("converting to or from scikit-learn needs scikit-learn installed "
                          f"({exc}); pip install scikit-learn") from exc
    return SkClassifier, SkRegressor


def _split(flat, shapes):
    """``flat`` cut into arrays of ``shapes`` (copies), in order."""
    out, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        out.append(flat[start:start + size].reshape(shape).copy())
        start += size
    return out


def _flat(arrays):
    return np.concatenate([np.ravel(a) for a in arrays])


def _params_of(est):
    params = est.get_params()
    params["random_state"] = copy.deepcopy(params["random_state"])  # a RandomState: not shared
    return params


def from_sklearn(estimator) -> MLPClassifier | MLPRegressor:
    """The nnlite preset equal to a fitted scikit-learn ``MLPClassifier`` or ``MLPRegressor``.

    Parameters
    ----------
    estimator : sklearn.neural_network.MLPClassifier or MLPRegressor
        Fitted.  It is not modified; a ``random_state`` given as a RandomState
        is copied, so that both models continue from the same random stream.

    Returns
    -------
    MLPClassifier or MLPRegressor
        Same hyperparameters, weights (same dtype) and fitted attributes:
        ``predict`` and ``predict_proba`` agree bit for bit, and further
        ``partial_fit`` or warm-started ``fit`` calls continue exactly as
        scikit-learn's would (the optimizer's state is carried).

    Raises
    ------
    TypeError
        ``estimator`` is not a scikit-learn MLP.
    NotFittedError
        It is not fitted.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPRegressor as SkMLPRegressor
    >>> import nnlite
    >>> X = np.linspace(-1, 1, 40).reshape(-1, 1)
    >>> sk = SkMLPRegressor(hidden_layer_sizes=(5,), solver="lbfgs", random_state=0)
    >>> sk = sk.fit(X, X.ravel() ** 2)
    >>> ours = nnlite.from_sklearn(sk)
    >>> bool((ours.predict(X) == sk.predict(X)).all())
    True
    """
    SkClassifier, SkRegressor = _sklearn_classes()
    if not isinstance(estimator, (SkClassifier, SkRegressor)):
        raise TypeError("from_sklearn: estimator must be a scikit-learn MLPClassifier or "
                        f"MLPRegressor; got {type(estimator).__name__}.")
    classifier = isinstance(estimator, SkClassifier)
    if not hasattr(estimator, "coefs_"):
        raise exceptions.error(
            exceptions.NotFittedError,
            f"from_sklearn: this {type(estimator).__name__} is not fitted yet; fit it first.")
    est = (MLPClassifier if classifier else MLPRegressor)(**_params_of(estimator))
    coefs, intercepts = estimator.coefs_, estimator.intercepts_
    hidden = [int(W.shape[1]) for W in coefs[:-1]]
    if classifier:
        binarizer = estimator._label_binarizer
        est._labels = LabelEncoding()
        est._labels.y_type_, est._labels.classes_ = binarizer.y_type_, binarizer.classes_
        est.classes_ = np.asarray(estimator.classes_).copy()
    n_in, n_out, dtype = coefs[0].shape[0], coefs[-1].shape[1], coefs[0].dtype
    # the preset's own construction, on an empty data set of the right widths and dtype
    est._initialize(np.empty((0, n_in), dtype), np.empty((0, n_out)), hidden,
                    np.random.RandomState(0))
    if est.out_activation_ != estimator.out_activation_:
        raise ValueError(f"from_sklearn: the output activation {estimator.out_activation_!r} "
                         f"does not fit this {type(est).__name__} (expected "
                         f"{est.out_activation_!r}).")
    est.coefs_, est.intercepts_ = coefs, intercepts
    for name in _COMMON + ("loss_", "feature_names_in_") + _STOCHASTIC:
        if hasattr(estimator, name):
            setattr(est, name, copy.deepcopy(getattr(estimator, name)))
    if hasattr(estimator, "loss_curve_"):
        est._no_improvement_count = estimator._no_improvement_count
        est._history = _history_of(est, estimator)
        # nnlite's own record, which scikit-learn does not keep: the epochs from here on
        est.validation_loss_curve_ = est._history.validation_loss_curve \
            if estimator.early_stopping else None
    optimizer = getattr(estimator, "_optimizer", None)
    if optimizer is not None:
        est._optimizer = SklearnOptimizerView(_optimizer_from_sklearn(optimizer, est))
    return est


def _history_of(est, sk):
    history = History()
    history.loss_curve = est.loss_curve_
    history.best_loss = np.inf if sk.best_loss_ is None else sk.best_loss_
    history.validation_scores = est.validation_scores_ if est.validation_scores_ is not None \
        else []
    history.best_validation_score = -np.inf if sk.best_validation_score_ is None \
        else sk.best_validation_score_
    history.no_improvement_count = sk._no_improvement_count
    history.t, history.n_iter, history.loss = sk.t_, sk.n_iter_, getattr(sk, "loss_", None)
    if sk.early_stopping:
        history.best_theta = _flat(sk._best_coefs + sk._best_intercepts).astype(
            est.network_.dtype)
    return history


def _optimizer_from_sklearn(sk_opt, est):
    theta = est.network_.theta
    if hasattr(sk_opt, "velocities"):
        opt = SGD(est.learning_rate_init, est.momentum, est.nesterovs_momentum,
                  est.learning_rate, est.power_t).init(theta)
        opt.velocity[...] = _flat(sk_opt.velocities)
    else:
        opt = Adam(est.learning_rate_init, est.beta_1, est.beta_2, est.epsilon).init(theta)
        opt.t = sk_opt.t
        opt.m[...] = _flat(sk_opt.ms)
        opt.v[...] = _flat(sk_opt.vs)
    opt.lr = sk_opt.learning_rate
    opt._nnlite_theta_size = theta.size  # the training loop continues it instead of resetting
    return opt


def _check_representable(est):
    """Refuse a preset whose network scikit-learn's MLP cannot hold, saying why."""
    layers = est.network_.layers
    expected = []
    for i in range(est.n_layers_ - 1):
        last = i == est.n_layers_ - 2
        expected += [Dense, _OUTPUT[est.out_activation_] if last else _HIDDEN[est.activation]]
    got = [type(layer) for layer in layers]
    if got != expected or any(not layer.bias for layer in layers[::2]):
        raise ValueError(
            "to_sklearn: scikit-learn's MLP cannot represent this network: it holds biased "
            f"Dense layers, each followed by the activation {est.activation!r} (the last by "
            f"{est.out_activation_!r}); this one is "
            f"[{', '.join(type(layer).__name__ for layer in layers)}]. Export it with "
            "nnlite.onnx.to_onnx or save it with nnlite.save instead.")


def to_sklearn(est):
    """The scikit-learn ``MLPClassifier``/``MLPRegressor`` equal to a fitted nnlite preset.

    Parameters
    ----------
    est : nnlite.MLPClassifier or nnlite.MLPRegressor
        Fitted.

    Returns
    -------
    sklearn.neural_network.MLPClassifier or MLPRegressor
        Same hyperparameters, weights and fitted attributes, with the training
        history and optimizer state scikit-learn keeps: equal predictions, and
        further ``partial_fit``/warm-started ``fit`` calls continue as nnlite's would.

    Raises
    ------
    TypeError
        ``est`` is not an nnlite preset (a custom network has no scikit-learn counterpart).
    NotFittedError
        It is not fitted.
    ValueError
        Its network was changed into one scikit-learn's MLP cannot hold.
    """
    if not isinstance(est, _BaseMLP):
        raise TypeError(
            "to_sklearn: only nnlite's MLPClassifier and MLPRegressor have a scikit-learn "
            f"counterpart; got {type(est).__name__}. scikit-learn's MLP is a stack of Dense "
            "layers with one hidden activation: a custom network cannot become one. Export "
            "it with nnlite.onnx.to_onnx or save it with nnlite.save instead.")
    est._check_fitted()
    SkClassifier, SkRegressor = _sklearn_classes()
    classifier = isinstance(est, MLPClassifier)
    sk = _sklearn_estimator(est, SkClassifier if classifier else SkRegressor)
    _check_representable(est)
    sk.coefs_ = [W.copy() for W in est.coefs_]
    sk.intercepts_ = [b.copy() for b in est.intercepts_]
    for name in _COMMON + ("loss_", "feature_names_in_") + _STOCHASTIC:
        if hasattr(est, name):
            setattr(sk, name, copy.deepcopy(getattr(est, name)))
    if classifier:
        from sklearn.preprocessing import LabelBinarizer

        binarizer = LabelBinarizer()
        binarizer.classes_ = np.asarray(est._labels.classes_).copy()
        binarizer.y_type_ = est._labels.y_type_
        binarizer.sparse_input_ = False
        sk._label_binarizer = binarizer
        sk.classes_ = binarizer.classes_
    shapes = [W.shape for W in sk.coefs_] + [b.shape for b in sk.intercepts_]
    best = est._history.best_theta
    flat = est.network_.theta if best is None else best
    parts = _split(flat, shapes)
    n = len(sk.coefs_)
    sk._best_coefs, sk._best_intercepts = parts[:n], parts[n:]
    if hasattr(est, "loss_curve_"):
        sk._no_improvement_count = est._no_improvement_count
        if sk.early_stopping:  # scikit-learn leaves the restored best weights in place
            sk.coefs_, sk.intercepts_ = sk._best_coefs, sk._best_intercepts
    optimizer = getattr(getattr(est, "_optimizer", None), "core", None)
    if optimizer is not None and getattr(optimizer, "_nnlite_theta_size", None):
        sk._optimizer = _optimizer_to_sklearn(optimizer, sk, shapes)
    return sk


def _sklearn_estimator(est, sk_class):
    """The unfitted scikit-learn estimator with ``est``'s hyperparameters, or why there is none."""
    params = _params_of(est)
    sk_names = set(sk_class().get_params())
    defaults = inspect.signature(type(est).__init__).parameters
    for name in sorted(set(params) - sk_names):  # nnlite's own: only their defaults translate
        if params[name] != defaults[name].default:
            raise ValueError(
                f"to_sklearn: scikit-learn's {sk_class.__name__} has no parameter {name!r}; "
                f"this model sets {name}={params[name]!r}. Export it with nnlite.onnx.to_onnx "
                "or save it with nnlite.save instead.")
    sk = sk_class(**{k: v for k, v in params.items() if k in sk_names})
    try:
        sk._validate_params()
    except (ValueError, TypeError) as exc:  # an activation, solver or loss it does not have
        raise ValueError(f"to_sklearn: scikit-learn cannot represent this model: {exc} Export "
                         "it with nnlite.onnx.to_onnx or save it with nnlite.save "
                         "instead.") from None
    return sk


def _optimizer_to_sklearn(opt, sk, shapes):
    from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer

    params = sk.coefs_ + sk.intercepts_
    if isinstance(opt, SGD):
        sk_opt = SGDOptimizer(params, sk.learning_rate_init, sk.learning_rate, sk.momentum,
                              sk.nesterovs_momentum, sk.power_t)
        sk_opt.velocities = _split(opt.velocity, shapes)
    else:
        sk_opt = AdamOptimizer(params, sk.learning_rate_init, sk.beta_1, sk.beta_2, sk.epsilon)
        sk_opt.t = opt.t
        sk_opt.ms, sk_opt.vs = _split(opt.m, shapes), _split(opt.v, shapes)
    sk_opt.learning_rate = opt.lr
    return sk_opt
