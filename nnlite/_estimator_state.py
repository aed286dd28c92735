"""The presets' state for :mod:`nnlite.io`: hyperparameters, fitted attributes, the network.

Everything read back is checked: the file may come from anyone.  The
optimizer's running state (Adam's moments, SGD's velocity) is not stored, so a
loaded model that keeps training with ``partial_fit`` starts a fresh optimizer,
as a ``fit`` does.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import io as nnlite_io
from ._labels import LabelEncoding
from .models import Sequential
from .training import History

_Y_TYPES = ("binary", "multiclass", "multilabel-indicator")
_OUTPUTS = ("softmax", "logistic", "identity", "exp")


def _float_out(x):
    """A float for JSON: non-finite values as the strings 'nan', 'inf', '-inf'."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else repr(x)


def _float_in(x, what):
    if x is None:
        return None
    if isinstance(x, str) and x in ("nan", "inf", "-inf"):
        return float(x)
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return float(x)
    raise ValueError(f"{what} must be a number; got {x!r}")


def _int_in(x, what, low=0):
    if isinstance(x, bool) or not isinstance(x, int) or x < low:
        raise ValueError(f"{what} must be an int >= {low}; got {x!r}")
    return x


def _param_out(name, value):
    if name == "callbacks":
        return None  # hooks of a training run, not part of the model
    if name == "class_weight" and isinstance(value, dict):
        return {"labels": _classes_out(np.array(list(value))),
                "weights": [_float_out(w) for w in value.values()]}
    if name in ("solver", "learning_rate", "activation") and not isinstance(value, str):
        raise TypeError(
            f"save: {name}={value!r} is an object, which nnlite's model format does not "
            f"store; give {name} by name (a str) to save the estimator, or pickle it.")
    if name == "hidden_layer_sizes":
        return [int(v) for v in np.ravel(value)] if np.ndim(value) else int(value)
    if name == "random_state":
        # a RandomState object is not data; the loaded model gets None
        return int(value) if isinstance(value, numbers.Integral) else None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return _float_out(value)
    return value


def _param_in(name, value):
    if name == "class_weight" and isinstance(value, dict):
        if set(value) != {"labels", "weights"} or not isinstance(value["weights"], list):
            raise ValueError("class_weight must hold 'labels' and 'weights'")
        labels = _classes_in(value["labels"]).tolist()
        weights = [_float_in(w, "a class weight") for w in value["weights"]]
        if len(labels) != len(weights):
            raise ValueError("class_weight has as many labels as weights")
        return dict(zip(labels, weights))
    if name == "hidden_layer_sizes":
        return tuple(value) if isinstance(value, list) else value
    if name == "n_iter_no_change" and value == "inf":
        return np.inf
    return value


def _classes_out(classes):
    kind = classes.dtype.kind
    if kind in "US" or (kind == "O" and all(isinstance(c, str) for c in classes)):
        return {"kind": "str" if kind in "US" else "object", "values": [str(c) for c in classes]}
    if kind == "b":
        return {"kind": "bool", "values": [bool(c) for c in classes]}
    if kind in "iu":
        return {"kind": "int", "values": [int(c) for c in classes]}
    if kind == "f":
        return {"kind": "float", "values": [_float_out(c) for c in classes]}
    raise TypeError(f"save: class labels of dtype {classes.dtype} cannot be saved")


def _classes_in(spec):
    kind, values = spec["kind"], spec["values"]
    if not isinstance(values, list) or not values:
        raise ValueError("classes must be a non-empty list")
    checks = {"str": str, "object": str, "bool": bool, "int": int}
    if kind == "float":
        return np.array([_float_in(v, "a class label") for v in values])
    if kind not in checks:
        raise ValueError(f"unknown class label kind {kind!r}")
    if not all(isinstance(v, checks[kind]) and (kind == "bool" or not isinstance(v, bool))
               for v in values):
        raise ValueError(f"class labels do not all have kind {kind!r}")
    if kind == "object":
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out
    return np.array(values)


def get_state(est):
    config = {"params": {k: _param_out(k, v) for k, v in est.get_params().items()}}
    arrays = {}
    if hasattr(est, "network_"):
        node, net_arrays = nnlite_io.get_state(est.network_)
        arrays.update({f"network/{k}": v for k, v in net_arrays.items()})
        fitted = {
            "network": node,
            "n_features_in": int(est.n_features_in_),
            "n_outputs": int(est.n_outputs_),
            "n_layers": int(est.n_layers_),
            "out_activation": est.out_activation_,
            "n_iter": int(est.n_iter_),
            "t": int(est.t_),
            "loss": _float_out(getattr(est, "loss_", None)),
            "no_improvement_count": int(getattr(est, "_no_improvement_count", 0)),
        }
        if hasattr(est, "feature_names_in_"):
            fitted["feature_names_in"] = [str(n) for n in est.feature_names_in_]
        if hasattr(est, "loss_curve_"):
            fitted["loss_curve"] = [_float_out(v) for v in est.loss_curve_]
            fitted["best_loss"] = _float_out(est.best_loss_)
            fitted["validation_scores"] = (None if est.validation_scores_ is None else
                                           [_float_out(v) for v in est.validation_scores_])
            fitted["best_validation_score"] = _float_out(est.best_validation_score_)
        if hasattr(est, "classes_"):
            fitted["classes"] = _classes_out(np.asarray(est.classes_))
            fitted["y_type"] = est._labels.y_type_
            if getattr(est._labels, "sparse_input_", False):
                fitted["sparse_target"] = True  # predict returns a sparse matrix
        best = est._history.best_theta
        if best is not None:
            arrays["best_theta"] = best
        config["fitted"] = fitted
    return config, arrays


def set_state(cls, config, arrays):
    if not isinstance(config, dict) or set(config) - {"params", "fitted"}:
        raise ValueError("the preset state holds 'params' and optionally 'fitted'")
    params = config["params"]
    names = cls._get_param_names()
    if not isinstance(params, dict) or sorted(params) != names:
        raise ValueError(f"params must name exactly {names}")
    est = cls(**{k: _param_in(k, v) for k, v in params.items()})
    est._validate_params()
    est._hidden_sizes()
    fitted = config.get("fitted")
    if fitted is None:
        if arrays:
            raise ValueError("arrays are stored for an unfitted model")
        return est
    net_arrays = {k[len("network/"):]: v for k, v in arrays.items() if k.startswith("network/")}
    net = nnlite_io.from_state(fitted["network"], net_arrays)
    if not isinstance(net, Sequential) or not net.built:
        raise ValueError("the network must be a built Sequential")
    est.network_ = net
    est.n_features_in_ = _int_in(fitted["n_features_in"], "n_features_in", 1)
    est.n_outputs_ = _int_in(fitted["n_outputs"], "n_outputs", 1)
    est.n_layers_ = _int_in(fitted["n_layers"], "n_layers", 2)
    if fitted["out_activation"] not in _OUTPUTS:
        raise ValueError(f"unknown out_activation {fitted['out_activation']!r}")
    est.out_activation_ = fitted["out_activation"]
    if net.n_in != est.n_features_in_ or net.n_out != est.n_outputs_:
        raise ValueError("the network's widths do not match n_features_in and n_outputs")
    dense = est._dense_layers()
    if len(dense) != est.n_layers_ - 1:
        raise ValueError("n_layers does not match the network")
    est.n_iter_ = _int_in(fitted["n_iter"], "n_iter")
    est.t_ = _int_in(fitted["t"], "t")
    if fitted.get("loss") is not None:
        est.loss_ = _float_in(fitted["loss"], "loss")
    est._no_improvement_count = _int_in(fitted["no_improvement_count"], "no_improvement_count")
    if "feature_names_in" in fitted:
        names_in = fitted["feature_names_in"]
        if not (isinstance(names_in, list) and len(names_in) == est.n_features_in_
                and all(isinstance(n, str) for n in names_in)):
            raise ValueError("feature_names_in must be one string per feature")
        est.feature_names_in_ = np.asarray(names_in, dtype=object)
    history = History()
    if "loss_curve" in fitted:
        history.loss_curve = [_float_in(v, "loss_curve") for v in fitted["loss_curve"]]
        history.best_loss = _float_in(fitted["best_loss"], "best_loss")
        scores = fitted["validation_scores"]
        history.validation_scores = [] if scores is None else [
            _float_in(v, "validation_scores") for v in scores]
        best_score = _float_in(fitted["best_validation_score"], "best_validation_score")
        history.best_validation_score = -np.inf if best_score is None else best_score
        est.loss_curve_ = history.loss_curve
        est.best_loss_ = None if est.early_stopping else history.best_loss
        est.validation_scores_ = history.validation_scores if scores is not None else None
        est.best_validation_score_ = best_score
    history.t, history.n_iter = est.t_, est.n_iter_
    history.no_improvement_count = est._no_improvement_count
    if "best_theta" in arrays:
        best = arrays["best_theta"]
        if best.shape != net.theta.shape:
            raise ValueError("best_theta does not match the network's parameters")
        history.best_theta = best.astype(net.dtype)
    est._history = history
    if "classes" in fitted:
        if cls._estimator_type != "classifier" or fitted["y_type"] not in _Y_TYPES:
            raise ValueError("class labels are stored for a model that has none")
        est.classes_ = _classes_in(fitted["classes"])
        labels = LabelEncoding()
        labels.y_type_, labels.classes_ = fitted["y_type"], est.classes_
        labels.sparse_input_ = fitted.get("sparse_target", False)
        if not isinstance(labels.sparse_input_, bool):
            raise ValueError("sparse_target must be true or false")
        est._labels = labels
    elif cls._estimator_type == "classifier":
        raise ValueError("a fitted classifier needs its class labels")
    return est
