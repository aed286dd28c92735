"""MLPClassifier and MLPRegressor: scikit-learn's estimators as presets of the core.

They store scikit-learn's hyperparameters, build a :class:`~nnlite.Sequential`
of core layers, map ``solver`` to a core optimizer and the output to a core
loss, and train through :func:`nnlite.train`, the loop custom stacks use.  No
numerics live here.  scikit-learn itself is never imported; its conventions
(``get_params``/``set_params``, fitted attributes ending in ``_``, tags) are
followed by duck typing.
"""

from __future__ import annotations

import copy
import inspect
import numbers

import numpy as np
from scipy import sparse

from . import (
    _accel,
    _backends,
    _checks,
    _estimator_state,
    _given_state,
    _repr,
    _snapshot,
    exceptions,
)
from . import io as nnlite_io
from ._labels import LabelEncoding, type_of_target, unique_labels
from ._metrics import accuracy, r2
from ._sklearn_optimizer import STOCHASTIC_SOLVERS as _STOCHASTIC
from ._sklearn_optimizer import SklearnOptimizerView
from ._sklearn_optimizer import is_stochastic as _is_stochastic
from ._split import validation_split
from .callbacks import Callback
from .init import GlorotUniform, _fresh_random_state
from .layers import (
    ELU,
    GELU,
    Dense,
    Dropout,
    Exp,
    Identity,
    Layer,
    LeakyReLU,
    Logistic,
    ReLU,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from .losses import AbsoluteError, BinaryLogLoss, Huber, LogLoss, PoissonLoss, SquaredError
from .models import Sequential
from .optimizers import LBFGS, SGD, Adam, AdamW, Nadam, Optimizer, RMSProp
from .schedules import Schedule
from .training import History, TrainingRun

__all__ = ["MLPClassifier", "MLPRegressor"]

_HIDDEN = {"identity": Identity, "logistic": Logistic, "tanh": Tanh, "relu": ReLU,
           "leaky_relu": LeakyReLU, "elu": ELU, "gelu": GELU, "softplus": Softplus,
           "silu": SiLU}


def _is_callback_list(v):
    return (isinstance(v, (list, tuple)) and not isinstance(v, Callback)
            and all(isinstance(cb, Callback) for cb in v))
_OUTPUT = {"identity": Identity, "logistic": Logistic, "softmax": Softmax, "exp": Exp}


class InvalidParameterError(ValueError, TypeError):
    """A hyperparameter has a type or value outside what the estimator allows."""


# ----- hyperparameter rules (checked at fit, never in __init__/set_params) --------------------
def _is_bool(v):
    return isinstance(v, (bool, np.bool_))


def _is_int(v):
    return isinstance(v, numbers.Integral) and not _is_bool(v)


def _is_real(v):
    return isinstance(v, numbers.Real) and not _is_bool(v)


def _interval(kind, low, high, closed):
    check = _is_int if kind == "int" else _is_real
    fmt = (lambda x: str(x)) if kind == "int" else (lambda x: str(float(x)))
    left = "[" if closed in ("left", "both") else "("
    right = "]" if closed in ("right", "both") else ")"
    desc = (f"{'an int' if kind == 'int' else 'a float'} in the range "
            f"{left}{'-inf' if low is None else fmt(low)}, "
            f"{'inf' if high is None else fmt(high)}{right}")

    def ok(v):
        if not check(v):
            return False
        if low is not None and (v < low if left == "[" else v <= low):
            return False
        return not (high is not None and (v > high if right == "]" else v >= high))
    return ok, desc


def _among(*options):
    return (lambda v: isinstance(v, str) and v in options,
            "a str among {" + ", ".join(repr(o) for o in options) + "}")


_BOOL = (_is_bool, "an instance of 'bool' or an instance of 'numpy.bool'")
_RULES = {
    "hidden_layer_sizes": [
        (lambda v: not isinstance(v, (str, bytes)) and hasattr(v, "__len__"), "an array-like"),
        _interval("int", 1, None, "left")],
    "activation": [_among(*_HIDDEN),
                   (lambda v: isinstance(v, type) and issubclass(v, Layer),
                    "a subclass of nnlite.Layer")],
    "solver": [_among("lbfgs", *_STOCHASTIC),
               (lambda v: isinstance(v, Optimizer), "an nnlite Optimizer instance")],
    "alpha": [_interval("real", 0.0, None, "left")],
    "batch_size": [_among("auto"), _interval("int", 1, None, "left")],
    "learning_rate": [_among("constant", "invscaling", "adaptive"),
                      (lambda v: isinstance(v, Schedule), "a schedule from nnlite.schedules")],
    "learning_rate_init": [_interval("real", 0.0, None, "neither")],
    "power_t": [_interval("real", 0.0, None, "left")],
    "max_iter": [_interval("int", 1, None, "left")],
    "shuffle": [_BOOL],
    "random_state": [_interval("int", 0, 2**32 - 1, "both"),
                     (lambda v: isinstance(v, np.random.RandomState),
                      "an instance of 'numpy.random.mtrand.RandomState'"),
                     (lambda v: v is None, "None")],
    "tol": [_interval("real", 0.0, None, "left")],
    "verbose": [_interval("int", 0, None, "left"), _BOOL],
    "warm_start": [_BOOL],
    "momentum": [_interval("real", 0.0, 1.0, "both")],
    "nesterovs_momentum": [_BOOL],
    "early_stopping": [_BOOL],
    "validation_fraction": [_interval("real", 0.0, 1.0, "left")],
    "beta_1": [_interval("real", 0.0, 1.0, "left")],
    "beta_2": [_interval("real", 0.0, 1.0, "left")],
    "epsilon": [_interval("real", 0.0, None, "neither")],
    "n_iter_no_change": [_interval("int", 1, None, "left"),
                         (lambda v: _is_real(v) and v == np.inf, "a float among {inf}")],
    "max_fun": [_interval("int", 1, None, "left")],
    "loss": [_among("squared_error", "poisson", "huber", "absolute_error")],
    "class_weight": [(lambda v: isinstance(v, dict), "a dict"), _among("balanced"),
                     (lambda v: v is None, "None")],
    "dropout": [_interval("real", 0.0, 1.0, "left")],
    "callbacks": [(_is_callback_list, "a list of nnlite Callback objects"),
                  (lambda v: v is None, "None")],
}


def _store_arguments(est, arguments):
    """Keep every ``__init__`` argument unchanged under its own name (checked at fit)."""
    for name in type(est)._get_param_names():
        setattr(est, name, arguments[name])


def _join_descriptions(descs):
    if len(descs) == 1:
        return descs[0]
    return ", ".join(descs[:-1]) + " or " + descs[-1]


class _AvailableIf:
    """A method that exists only when ``check(estimator)`` holds (else ``hasattr`` is False)."""

    def __init__(self, check, fn):
        self.check, self.fn = check, fn
        self.__doc__ = fn.__doc__
        self.__name__ = fn.__name__

    def __get__(self, obj, owner=None):
        if obj is None:
            return self.fn
        if not self.check(obj):
            raise AttributeError(f"This {type(obj).__name__!r} has no attribute "
                                 f"{self.fn.__name__!r}")
        return self.fn.__get__(obj, owner)


def _stochastic_only(fn):
    return _AvailableIf(lambda est: _is_stochastic(est.solver), fn)


class _SquaredErrorOutputMean(SquaredError):
    """Squared error whose reported value averages over outputs instead of summing.

    The gradient is the same as :class:`SquaredError`'s; only the number written
    to ``loss_curve_`` by the stochastic solvers differs (by a factor of
    ``n_outputs`` on the data term), which is what scikit-learn reports.
    """

    def value(self, output, y, sample_weight=None):
        per_entry = self.per_entry(output, y)
        return float(np.average(per_entry, weights=sample_weight, axis=0).mean())

    def _fused_inplace(self, logits, y, sample_weight=None, compute_value=True, codes=None):
        if sample_weight is None:  # the compiled pass gives the sum of the output means
            done, total = _accel.squared_error_delta(logits, y, compute_value)
            if done:
                if total is None:
                    return None, logits
                # .mean() of the output means: their sum divided in the array's precision
                return float(logits.dtype.type(total) / logits.shape[1]), logits
        return super()._fused_inplace(logits, y, sample_weight, compute_value)


class _WriteThroughList(list):
    """Views of the network's arrays; assigning an item copies the values into the network."""

    def __init__(self, views, name):
        super().__init__(views)
        self._name = name

    def __setitem__(self, index, value):
        if not isinstance(index, (int, np.integer)):
            raise TypeError(f"{self._name}: assign one array at a time, by integer index.")
        target = self[index]
        value = np.asarray(value)
        if value.shape != target.shape:
            raise ValueError(f"{self._name}[{index}] must have shape {target.shape}; "
                             f"got {value.shape}.")
        target[...] = value

    def __reduce__(self):  # pickles (and deep-copies) as a plain list of arrays
        return (list, (list(self),))


class _BaseMLP:
    """What the two presets share: parameters, fitting, the fitted network."""

    _estimator_type = None

    # ----- scikit-learn estimator protocol -------------------------------------------------
    @classmethod
    def _get_param_names(cls):
        names = cls.__dict__.get("_param_names")  # fit reads them on every call: once per class
        if names is None:
            sig = inspect.signature(cls.__init__)
            names = cls._param_names = tuple(sorted(
                p.name for p in sig.parameters.values()
                if p.name != "self" and p.kind != p.VAR_KEYWORD))
        return list(names)

    def get_params(self, deep=True):
        """Hyperparameters as a dict (``deep`` is accepted for compatibility)."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params):
        """Set hyperparameters; returns self. Values are checked at the next ``fit``."""
        valid = self._get_param_names()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(
                    f"Invalid parameter {key!r} for estimator {type(self).__name__}. "
                    f"Valid parameters are: {valid!r}."
                )
            setattr(self, key, value)
        return self

    # printed as scikit-learn prints; HTML for notebooks and scikit-learn's diagrams
    __repr__ = _repr.estimator_repr
    _repr_html_ = _repr.repr_html
    _repr_mimebundle_ = _repr.repr_mimebundle
    _get_params_html = _repr.get_params_html

    def __sklearn_is_fitted__(self):
        return hasattr(self, "network_")

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags, InputTags, RegressorTags, Tags, TargetTags

        is_clf = self._estimator_type == "classifier"
        return Tags(
            estimator_type=self._estimator_type,
            target_tags=TargetTags(required=True),
            classifier_tags=ClassifierTags(multi_label=True) if is_clf else None,
            regressor_tags=None if is_clf else RegressorTags(),
            input_tags=InputTags(sparse=True),
        )

    def _check_fitted(self):
        if not hasattr(self, "network_"):
            raise exceptions.error(
                exceptions.NotFittedError,
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator.",
            )

    # ----- fitted attributes backed by the network -----------------------------------------
    def _dense_layers(self):
        return [layer for layer in self.network_.layers if isinstance(layer, Dense)]

    @property
    def coefs_(self):
        """list of ndarray of shape (n_in, n_out): weight matrices, views of the network."""
        if not hasattr(self, "network_"):
            return _given_state.given(self, "coefs_")
        return _WriteThroughList([layer.params["W"] for layer in self._dense_layers()],
                                 "coefs_")

    @coefs_.setter
    def coefs_(self, values):
        self._assign("W", values, "coefs_")

    @property
    def intercepts_(self):
        """list of ndarray of shape (n_out,): bias vectors, views of the network."""
        if not hasattr(self, "network_"):
            return _given_state.given(self, "intercepts_")
        return _WriteThroughList([layer.params["b"] for layer in self._dense_layers()],
                                 "intercepts_")

    @intercepts_.setter
    def intercepts_(self, values):
        self._assign("b", values, "intercepts_")

    def _assign(self, name, values, attr):
        if not hasattr(self, "network_"):  # kept for the next partial_fit or warm fit
            _given_state.store(self, attr, values)
            return
        targets = [layer.params[name] for layer in self._dense_layers()]
        values = list(values)
        if len(values) != len(targets) or any(
                np.shape(v) != t.shape for v, t in zip(values, targets)):
            raise ValueError(f"{attr} must be a list of arrays of shapes "
                             f"{[t.shape for t in targets]}.")
        for t, v in zip(targets, values):
            t[...] = v

    # ----- fitting ---------------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """Fit the model to ``X`` of shape (n_samples, n_features) and ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Labels (a 0/1 indicator matrix for multilabel problems) or regression targets.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        if _backends.any_dask(X, y, sample_weight):  # on a cluster: see nnlite.dask
            from .dask import _presets

            return self._transaction(lambda: _presets.fit(self, X, y, sample_weight))
        return self._transaction(lambda: self._fit(X, y, sample_weight, incremental=False))

    def _validate_params(self):
        owner = type(self).__name__
        for name in self._get_param_names():
            rules = _RULES[name]
            value = getattr(self, name)
            if not any(ok(value) for ok, _ in rules):
                raise InvalidParameterError(
                    f"The {name!r} parameter of {owner} must be "
                    f"{_join_descriptions([d for _, d in rules])}. Got {value!r} instead."
                )

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if not hasattr(sizes, "__iter__") else list(sizes)
        if any(not _is_int(s) for s in sizes):
            raise InvalidParameterError(
                f"hidden_layer_sizes must hold ints; got {self.hidden_layer_sizes!r}.")
        if any(s <= 0 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        return [int(s) for s in sizes]

    def _transaction(self, action):
        """Run ``action``; if it raises, put the estimator back exactly as it was."""
        saved = _snapshot.Snapshot(self)  # not a deep copy: see _snapshot
        try:
            return action()
        except BaseException:
            saved.restore()
            raise

    def _fit(self, X, y, sample_weight, incremental):
        self._validate_params()
        hidden = self._hidden_sizes()
        # as in scikit-learn, coefs_ set by hand on an unfitted model count as a fitted state
        fitted = hasattr(self, "network_")
        given = not fitted and _given_state.has_coefs(self)
        first_pass = not (fitted or given) or (not self.warm_start and not incremental)
        given = given and not first_pass
        if given:
            _given_state.prepare(self)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        sample_weight = _checks.check_sample_weight(sample_weight, X.shape[0], X.dtype)
        if y.ndim == 1:
            y = y.reshape(-1, 1)
        rng = _fresh_random_state(self.random_state, self)  # RandomState(seed), cheaper
        if first_pass:
            self._initialize(X, y, hidden, rng)
        elif given:
            _given_state.adopt(self, y, self._build_network)
        self.n_outputs_ = y.shape[1]
        if _is_stochastic(self.solver):
            self._fit_stochastic(X, y, sample_weight, rng, incremental)
        else:
            self._fit_lbfgs(X, y, sample_weight)
        return self

    def _initialize(self, X, y, hidden, rng):
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(hidden) + 2
        self.out_activation_ = self._output_activation(y)
        net = self._build_network(hidden + [self.n_outputs_], self.out_activation_,
                                  X.shape[1], X.dtype, rng)
        self.network_ = net
        _given_state.forget(self)
        self.n_iter_ = 0
        self.t_ = 0
        self._history = History()
        self._history.best_theta = net.theta.copy() if self.early_stopping else None
        for name in ("_optimizer", "loss_curve_", "best_loss_", "validation_scores_",
                     "best_validation_score_", "loss_"):
            self.__dict__.pop(name, None)

    def _build_network(self, widths, out_activation, n_in, dtype, rng=0):
        factor = 2.0 if self.activation == "logistic" else 6.0
        layers = []
        hidden = (self.activation if isinstance(self.activation, type)
                  else _HIDDEN[self.activation])
        for width in widths:
            layers.append(Dense(width, weight_init=GlorotUniform(factor),
                                bias_init=GlorotUniform(factor)))
            layers.append(hidden())
            if self.dropout:
                layers.append(Dropout(self.dropout))
        if self.dropout:
            layers.pop()  # no dropout after the output layer
        layers[-1] = _OUTPUT[out_activation]()
        return Sequential(layers).build(n_in, dtype=dtype, random_state=rng)

    def _loss(self):
        out = self.out_activation_
        class_weight = self._loss_class_weight()
        if out == "softmax":
            return LogLoss(value_from_logits=False, class_weight=class_weight)
        if out == "logistic":
            return BinaryLogLoss(value_from_logits=False, class_weight=class_weight)
        if out == "exp":
            return PoissonLoss()
        loss = getattr(self, "loss", "squared_error")
        if loss == "huber":
            return Huber()
        if loss == "absolute_error":
            return AbsoluteError()
        if not _is_stochastic(self.solver):
            return SquaredError()
        return _SquaredErrorOutputMean()

    def _loss_class_weight(self):
        return None

    def _make_optimizer(self):
        """The core optimizer ``solver`` names (a copy of one given as an instance)."""
        solver, rate = self.solver, self.learning_rate
        if isinstance(solver, Optimizer):
            return copy.deepcopy(solver)
        schedule = rate if isinstance(rate, Schedule) else None
        step = self.learning_rate_init if schedule is None else copy.deepcopy(schedule)
        if solver == "sgd":
            return SGD(step, self.momentum, self.nesterovs_momentum,
                       "constant" if schedule is not None else rate, self.power_t)
        if solver == "adam":
            return Adam(step, self.beta_1, self.beta_2, self.epsilon)
        if solver == "adamw":
            return AdamW(step, self.beta_1, self.beta_2, self.epsilon)
        if solver == "nadam":
            return Nadam(step, self.beta_1, self.beta_2, self.epsilon)
        if solver == "rmsprop":
            return RMSProp(step)
        return LBFGS(maxiter=self.max_iter, maxfun=self.max_fun, gtol=self.tol)

    def _fit_stochastic(self, X, y, sample_weight, rng, incremental):
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = SklearnOptimizerView(self._make_optimizer())
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        validation = None
        X_train, y_train, sw_train = X, y, sample_weight
        if self.early_stopping:
            train_idx, val_idx = validation_split(
                X.shape[0], self.validation_fraction, rng, **self._strata(y))
            if len(val_idx) < 2:
                raise ValueError("The validation set is too small. Increase "
                                 "'validation_fraction' or the size of your dataset.")
            X_train, y_train = X[train_idx], y[train_idx]
            sw_val = None
            if sample_weight is not None:
                sw_train, sw_val = sample_weight[train_idx], sample_weight[val_idx]
            validation = (X[val_idx], self._validation_target(y[val_idx]), sw_val)
            score = _ValidationScore(self, y[val_idx])
        n_train = X_train.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n_train)
        else:
            if self.batch_size > n_train:
                exceptions.warn(UserWarning, "Got `batch_size` less than 1 or larger than "
                                "sample size. It is going to be clipped", stacklevel=4)
            batch_size = int(np.clip(self.batch_size, 1, n_train))
        history, loss = self._history, self._loss()
        # X, y and the weights were validated above, once (checked=True), and the
        # transaction holds the copy of the parameters a failed call puts back
        TrainingRun(self.network_, X_train, loss.prepare_target(y_train, self.network_.n_out),
                    loss, self._optimizer.core, alpha=float(self.alpha), batch_size=batch_size,
                    epochs=self.max_iter, shuffle=self.shuffle, random_state=rng,
                    sample_weight=sw_train, tol=float(self.tol),
                    n_iter_no_change=self.n_iter_no_change, validation_data=validation,
                    score=score if validation is not None else None, history=history,
                    incremental=incremental, verbose=bool(self.verbose),
                    callbacks=self.callbacks, estimator=self, checked=True,
                    restore_on_failure=False).execute()
        self.n_iter_ = history.n_iter
        self.t_ = history.t
        self.loss_ = history.loss
        self.loss_curve_ = history.loss_curve
        self._no_improvement_count = history.no_improvement_count
        if self.early_stopping:
            self.validation_scores_ = history.validation_scores
            self.validation_loss_curve_ = history.validation_loss_curve
            self.best_validation_score_ = history.best_validation_score
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.validation_loss_curve_ = None
            self.best_validation_score_ = None
            self.best_loss_ = history.best_loss

    def _fit_lbfgs(self, X, y, sample_weight):
        # L-BFGS runs in float64 whatever the input's precision
        self.network_ = self.network_.astype(np.float64)
        history = History()
        TrainingRun(self.network_, X, y, self._loss(), self._make_optimizer(),
                    alpha=self.alpha, sample_weight=sample_weight, history=history,
                    callbacks=self.callbacks, estimator=self).execute()
        self.n_iter_ = history.n_iter
        self.loss_ = history.loss

    def _validation_score(self, net, X_val, y_val, sw_val):
        # X_val was validated with X; no per-epoch re-check
        return self._score_from_output(net._forward(X_val, False), y_val, sw_val)

    def _score_from_output(self, output, y_val, sw_val):
        y_pred = self._predict_from(output)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return self._score_function(y_val, y_pred, sw_val)

    # ----- prediction ------------------------------------------------------------------------
    def _forward(self, X):
        self._check_fitted()
        _checks.check_feature_names(self, X, reset=False)
        X = _checks.check_X(X, type(self).__name__, float_dtypes=())
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is "
                             f"expecting {self.n_features_in_} features as input.")
        if X.dtype in (np.float32, np.float64):
            # already 2-D, finite and the right width: skip the network's second pass
            return self.network_._forward(X, False)
        return self.network_.predict(X)  # converts other numbers to float64

    def _validate_X_for_fit(self, X, reset):
        _checks.check_feature_names(self, X, reset=reset)
        X = _checks.check_X(X, type(self).__name__)
        _checks.check_scale(X, type(self).__name__)
        if reset:
            self.n_features_in_ = X.shape[1]
        elif X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is "
                             f"expecting {self.n_features_in_} features as input.")
        return X

    def score(self, X, y, sample_weight=None):
        """Accuracy (classifier) or R^2 (regressor) of ``predict(X)`` against ``y``."""
        if _backends.is_dask(X):
            from .dask import _presets

            return _presets.score(self, X, y, sample_weight)
        return self._score_function(y, self.predict(X), sample_weight)

    def __getstate__(self):
        return self.__dict__.copy()

    def __setstate__(self, state):
        self.__dict__.update(state)

    def to_sklearn(self):
        """The equal scikit-learn estimator (needs scikit-learn; see :func:`nnlite.to_sklearn`).

        Returns
        -------
        sklearn.neural_network.MLPClassifier or MLPRegressor
            Same hyperparameters, weights, fitted attributes and optimizer state:
            equal predictions, and further fits continue as this model's would.
        """
        from ._sklearn_convert import to_sklearn

        return to_sklearn(self)

    # ----- nnlite.save / nnlite.load ---------------------------------------------------------
    def __nnlite_getstate__(self):
        return _estimator_state.get_state(self)

    @classmethod
    def __nnlite_setstate__(cls, config, arrays):
        return _estimator_state.set_state(cls, config, arrays)


_DOC_PARAMS = """
    hidden_layer_sizes : array-like of int or int, default=(100,)
        Width of each hidden layer.
    activation : str or Layer subclass, default='relu'
        Activation of the hidden layers: scikit-learn's 'identity', 'logistic', 'tanh',
        'relu', or 'leaky_relu', 'elu', 'gelu', 'softplus', 'silu' (nnlite's additions),
        or a :class:`~nnlite.Layer` subclass built with no arguments.
    solver : str or Optimizer, default='adam'
        Optimizer: 'lbfgs' (:class:`~nnlite.LBFGS`), 'sgd' (:class:`~nnlite.SGD`),
        'adam' (:class:`~nnlite.Adam`), or nnlite's 'rmsprop', 'adamw', 'nadam'
        (built from ``learning_rate_init`` and, where they apply, ``beta_1``,
        ``beta_2``, ``epsilon``), or an :class:`~nnlite.Optimizer` instance (a copy of
        it trains).
    alpha : float, default=0.0001
        L2 penalty, divided by the number of samples (or the weight total) of a batch.
    batch_size : int or 'auto', default='auto'
        Minibatch size of the stochastic solvers; 'auto' is ``min(200, n_samples)``.
    learning_rate : {'constant', 'invscaling', 'adaptive'} or Schedule, default='constant'
        Schedule of 'sgd' (see :class:`~nnlite.SGD`); a schedule object from
        :mod:`nnlite.schedules` sets the rate of any stochastic solver named by string
        (``learning_rate_init`` is then unused).
    learning_rate_init : float, default=0.001
        Initial step size of 'sgd' and 'adam'.
    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.
    max_iter : int, default=200
        Epochs of 'sgd'/'adam', iterations of 'lbfgs'.
    shuffle : bool, default=True
        Reshuffle the samples every epoch ('sgd'/'adam').
    random_state : int, RandomState instance or None, default=None
        Source of the initial weights, the validation split and the shuffles.
    tol : float, default=1e-4
        Improvement needed to reset the no-improvement count; 'lbfgs' gradient tolerance.
    verbose : bool or int, default=False
        Print the loss of every epoch.
    warm_start : bool, default=False
        Continue from the previous fit's weights.
    momentum : float, default=0.9
        Momentum of 'sgd'.
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with 'sgd'.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, stop on its score, and keep
        the best weights ('sgd'/'adam').
    validation_fraction : float, default=0.1
        Share of the data held out for early stopping.
    beta_1, beta_2 : float, default=0.9, 0.999
        Moment decay rates of 'adam'.
    epsilon : float, default=1e-8
        Stabiliser of 'adam'.
    n_iter_no_change : int or numpy.inf, default=10
        Epochs without improvement by ``tol`` before stopping.
    max_fun : int, default=15000
        Maximum number of loss evaluations of 'lbfgs'.
    dropout : float, default=0.0
        In [0, 1): a :class:`~nnlite.Dropout` of this rate after every hidden
        activation (none when 0, scikit-learn's network).
    callbacks : list of Callback, default=None
        Run by ``fit`` and ``partial_fit`` (see :mod:`nnlite.callbacks`); the estimator
        is ``callback.run.estimator``. Not saved by :func:`nnlite.save`.
"""

_DOC_ATTRS = """
    loss_ : float
        Loss at the end of the last fit (with the L2 penalty).
    best_loss_ : float or None
        Lowest training loss seen ('sgd'/'adam'; None with early stopping).
    loss_curve_ : list of float
        Loss after every epoch, cumulative over warm starts and partial fits ('sgd'/'adam').
    validation_scores_ : list of float or None
        Validation score of every epoch with early stopping, else None.
    best_validation_score_ : float or None
        Best validation score with early stopping, else None.
    t_ : int
        Training samples seen by the stochastic solvers (0 for 'lbfgs').
    coefs_ : list of ndarray of shape (n_in, n_out)
        Weight matrices (views of ``network_``: editing them edits the model).
    intercepts_ : list of ndarray of shape (n_out,)
        Bias vectors (views of ``network_``).
    n_features_in_ : int
        Number of features seen at fit.
    feature_names_in_ : ndarray of str
        Column names of a DataFrame ``X`` at fit (only if they are all strings).
    n_iter_ : int
        Epochs (or 'lbfgs' iterations) run by the last fit call.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of outputs.
    network_ : Sequential
        The fitted network, for inspection, gradient checks or further training.
"""


class _ValidationScore:
    """The early-stopping score of a preset, computed from the output the loop already has.

    ``loss_target`` (the held-out rows of the training target, in the loss's format)
    lets the loop compute the validation loss from the same forward pass.
    """

    def __init__(self, est, loss_target):
        self.est, self.loss_target = est, loss_target

    def __call__(self, net, X_val, y_val, sw_val):
        return self.est._validation_score(net, X_val, y_val, sw_val)

    def from_output(self, output, y_val, sw_val):
        return self.est._score_from_output(output, y_val, sw_val)


class MLPClassifier(_BaseMLP):
    __doc__ = (
        """Multi-layer perceptron classifier, a drop-in for scikit-learn's ``MLPClassifier``.

    Binary, multiclass and multilabel targets with any labels.  The network is
    ``Dense -> activation -> ... -> Dense -> Softmax`` (``Logistic`` for binary
    and multilabel targets) trained on the log loss with an L2 penalty.

    Parameters
    ----------""" + _DOC_PARAMS + """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.""" + _DOC_ATTRS + """    out_activation_ : str
        'softmax' or 'logistic'.

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import MLPClassifier
    >>> X = np.array([[0., 0.], [0., 1.], [1., 0.], [1., 1.]] * 10)
    >>> y = np.array([0, 1, 1, 0] * 10)
    >>> clf = MLPClassifier((8,), activation="tanh", solver="lbfgs", random_state=0).fit(X, y)
    >>> clf.predict([[0., 1.], [1., 1.]]).tolist()
    [1, 0]
    """)

    _estimator_type = "classifier"

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 class_weight=None, dropout=0.0, callbacks=None):
        _store_arguments(self, locals())

    _score_function = staticmethod(accuracy)

    def _loss_class_weight(self):
        """``class_weight`` for the loss, whose classes are the columns 0, 1, ..."""
        cw = self.class_weight
        if cw is None or isinstance(cw, str):
            return cw
        if self.out_activation_ == "logistic" and self.n_outputs_ > 1:
            raise ValueError("class_weight as a dict is not supported for multilabel targets; "
                             "use class_weight='balanced' or sample_weight.")
        classes = self.classes_.tolist()
        unknown = [label for label in cw if label not in classes]
        if unknown:
            raise ValueError(f"class_weight names labels that are not classes of y: "
                             f"{unknown!r}; the classes are {classes!r}.")
        return {classes.index(label): weight for label, weight in cw.items()}

    @_stochastic_only
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over ``(X, y)`` ('sgd' and 'adam' only).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
        sample_weight : array-like of shape (n_samples,), default=None
        classes : array-like of shape (n_classes,), default=None
            Every label the model will ever see; required on the first call.

        Returns
        -------
        self
        """
        def action():
            if getattr(self, "classes_", None) is None and classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            if classes is not None:
                if getattr(self, "classes_", None) is not None:
                    if not np.array_equal(self.classes_, unique_labels(classes)):
                        raise ValueError(
                            f"`classes={classes!r}` is not the same as on last call to "
                            f"partial_fit, was: {self.classes_!r}")
                else:
                    encoding = LabelEncoding()
                    target = y if type_of_target(y).startswith("multilabel") else classes
                    self._labels = encoding.fit(target)
                    self.classes_ = encoding.classes_
            return self._fit(X, y, sample_weight, incremental=True)
        return self._transaction(action)

    def _validate_input(self, X, y, incremental, reset):
        X = self._validate_X_for_fit(X, reset)
        sparse_y = sparse.issparse(y)
        y = _checks.check_y(y, type(self).__name__, numeric=False)
        _checks.check_consistent_length(X, y)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._labels = LabelEncoding().fit(y, sparse_input=sparse_y)
            self.classes_ = self._labels.classes_
        else:
            classes = unique_labels(y) if y.ndim == 1 else np.arange(y.shape[1])
            if self.warm_start:
                if set(classes.tolist()) != set(self.classes_.tolist()):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the "
                        f"previous call to fit. Previously got {self.classes_}, `y` has "
                        f"{classes}")
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    f"`y` has classes not in `self.classes_`. `self.classes_` has "
                    f"{self.classes_}. 'y' has {classes}.")
        return X, self._labels.transform(y)

    def _output_activation(self, y):
        return "softmax" if y.shape[1] > 1 and self._labels.y_type_ != "multilabel-indicator" \
            else "logistic"

    def _strata(self, y):
        # Stratify single-label targets (binary and multiclass); multilabel rows are not classes.
        if self._labels.y_type_ == "multilabel-indicator":
            return {}
        codes = y[:, 0].astype(int) if y.shape[1] == 1 else y.argmax(axis=1)
        # a binary split sees the 0/1 column, whose classes scikit-learn names 'False', 'True'
        names = self.classes_ if y.shape[1] > 1 else np.array(["False", "True"])
        return {"strata": codes, "strata_names": names}

    def _validation_target(self, y_val):
        return self._labels.inverse_transform(y_val.astype(float), dense=True)

    def _predict_from(self, output):
        return self._labels.inverse_transform(output, dense=True)

    def predict(self, X):
        """Predicted labels, shape (n_samples,) (or (n_samples, n_labels) for multilabel)."""
        if _backends.is_dask(X):  # lazy: one task per block
            from .dask import _presets

            return _presets.predict(self, X, "predict")
        output = self._forward(X)
        return self._labels.inverse_transform(output)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns in the order of ``classes_``.

        Binary problems give two columns ``[1 - p, p]``; multilabel problems give
        one independent probability per label.
        """
        if _backends.is_dask(X):  # lazy: one task per block
            from .dask import _presets

            return _presets.predict(self, X, "predict_proba")
        p = self._forward(X)
        if p.shape[1] == 1:
            p = p.ravel()
            return np.vstack([1 - p, p]).T
        return p

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba` (``-inf`` where a probability is 0)."""
        if _backends.is_dask(X):  # lazy: one task per block
            from .dask import _presets

            return _presets.predict(self, X, "predict_log_proba")
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


class MLPRegressor(_BaseMLP):
    __doc__ = (
        """Multi-layer perceptron regressor, a drop-in for scikit-learn's ``MLPRegressor``.

    The network is ``Dense -> activation -> ... -> Dense`` with an identity
    output trained on the squared error, or an exponential output trained on
    the Poisson deviance (``loss='poisson'``, non-negative targets).

    Parameters
    ----------
    loss : {'squared_error', 'poisson', 'huber', 'absolute_error'}, default='squared_error'
        Loss (and output activation: exp for 'poisson', identity otherwise);
        'huber' is :class:`~nnlite.Huber` with ``delta=1``, 'absolute_error'
        :class:`~nnlite.AbsoluteError` (nnlite's additions).""" + _DOC_PARAMS + """
    Attributes
    ----------""" + _DOC_ATTRS + """    out_activation_ : str
        'identity' or 'exp'.

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import MLPRegressor
    >>> X = np.linspace(-1, 1, 50).reshape(-1, 1); y = X.ravel() ** 2
    >>> reg = MLPRegressor(hidden_layer_sizes=(16,), activation="tanh", solver="lbfgs",
    ...                    random_state=0).fit(X, y)
    >>> bool(reg.score(X, y) > 0.95)
    True
    """)

    _estimator_type = "regressor"

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *,
                 solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 dropout=0.0, callbacks=None):
        _store_arguments(self, locals())

    _score_function = staticmethod(r2)

    @_stochastic_only
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over ``(X, y)`` ('sgd' and 'adam' only).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        return self._transaction(lambda: self._fit(X, y, sample_weight, incremental=True))

    def _validate_input(self, X, y, incremental, reset):
        X = self._validate_X_for_fit(X, reset)
        y = _checks.check_y(y, type(self).__name__, numeric=True)
        _checks.check_consistent_length(X, y)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError("MLPRegressor(loss='poisson') needs non-negative y; got values "
                             f"down to {np.min(y)}.")
        return X, y

    def _output_activation(self, y):
        return "exp" if self.loss == "poisson" else "identity"

    def _strata(self, y):
        return {}

    def _validation_target(self, y_val):
        return y_val

    def _predict_from(self, output):
        return output

    def predict(self, X):
        """Predicted targets, shape (n_samples,) or (n_samples, n_outputs)."""
        if _backends.is_dask(X):  # lazy: one task per block
            from .dask import _presets

            return _presets.predict(self, X, "predict")
        out = self._forward(X)
        return out.ravel() if out.shape[1] == 1 else out


nnlite_io.register_model_class(MLPClassifier)
nnlite_io.register_model_class(MLPRegressor)
