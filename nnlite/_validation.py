"""Input checks of the core entry points, with messages that say what to do.

Every public entry (``Sequential.forward``/``predict``/``loss_and_grad``, a
layer's ``forward`` when used on its own, ``train``, ``Loss.value``/``gradient``
and the gradient checks) validates its arguments once, here, and then calls
internal functions that never check again: nothing in this module runs per
minibatch.

Conventions: ``TypeError`` when an argument has the wrong type (strings,
complex numbers, objects where numbers are expected), ``ValueError`` when it
has the wrong shape or value.  Each message starts with the entry point, names
the argument, says what was wrong and what is allowed, e.g.
``"train: X contains NaN or infinity; remove or impute them."``

Accepted as data: numpy arrays of any memory order (read-only and
memory-mapped ones too, never copied when already float32/float64), nested
lists, objects with ``__array__`` (pandas DataFrames) and scipy.sparse
matrices (CSR/CSC kept; other formats converted to CSR).
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy import sparse

__all__ = ["Inputs", "check_input", "check_input_list",
           "check_X", "check_target", "check_sample_weight", "check_int", "check_real",
           "check_same_length", "check_objective", "check_validation_data"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _as_array(a, where, name):
    if a is None:
        raise TypeError(f"{where}: {name} is None; expected an array.")
    try:
        return np.asarray(a)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"{where}: {name} cannot be turned into a numeric array ({exc}); rows of a list "
            "must all have the same length."
        ) from None


def _to_real(a, where, name, keep=_FLOATS):
    """``a`` with a real dtype: float32/float64 kept (no copy), other numbers to float64."""
    kind = a.dtype.kind
    if a.dtype in keep:
        return a
    if kind in "biuf":
        return a.astype(np.float64)
    if kind == "c":
        raise TypeError(f"{where}: {name} holds complex numbers (dtype {a.dtype}); only real "
                        "numbers are allowed.")
    if kind == "O":
        if any(isinstance(v, (str, bytes)) for v in a.flat):
            raise TypeError(f"{where}: {name} holds strings; only real numbers are allowed. "
                            "Encode categories as numbers first.")
        try:
            return a.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{where}: {name} holds objects that are not real numbers; only "
                            "real numbers are allowed.") from None
    what = "strings" if kind in "USa" else f"values of dtype {a.dtype}"
    raise TypeError(f"{where}: {name} holds {what}; only real numbers are allowed."
                    + (" Encode categories as numbers first." if kind in "USa" else ""))


def _all_finite(a):
    if a.dtype.kind != "f":
        return True
    with np.errstate(over="ignore", invalid="ignore"):
        total = a.sum()  # finite sum => every entry finite; one pass, no temporary
    return bool(np.isfinite(total)) or bool(np.isfinite(a).all())


def _require_finite(a, where, name):
    if not _all_finite(a):
        raise ValueError(f"{where}: {name} contains NaN or infinity; remove or impute them.")


def check_X(X, where, *, n_features=None, name="X", owner="the network"):
    """A 2-D, non-empty, finite, real ``X`` (dense or CSR/CSC sparse).

    Parameters
    ----------
    X : array-like or scipy.sparse matrix of shape (n_samples, n_features)
    where : str
        The entry point, first word of the messages.
    n_features : int, optional
        Required width (a built network's input width).
    name : str, default="X"
    owner : str, default="the network"
        What requires ``n_features``, for the message.

    Returns
    -------
    ndarray or scipy.sparse matrix
        ``X`` itself when it is already float32/float64 (dense) or CSR/CSC
        float32/float64; otherwise a float64 copy.
    """
    if sparse.issparse(X):
        if X.format not in ("csr", "csc"):
            X = X.tocsr()
        data = _to_real(X.data, where, name)
        if data is not X.data:
            X = X.astype(np.float64)
        _require_finite(X.data, where, name)
    else:
        X = _as_array(X, where, name)
        if X.ndim != 2:
            got = "a scalar" if X.ndim == 0 else f"a {X.ndim}-D array of shape {X.shape}"
            hint = (" Use X.reshape(-1, 1) for a single feature or X.reshape(1, -1) for a "
                    "single sample." if X.ndim == 1 else "")
            raise ValueError(f"{where}: {name} must be 2-D (n_samples, n_features); got "
                             f"{got}.{hint}")
        X = _to_real(X, where, name)
    n_samples, width = X.shape
    if n_samples == 0 or width == 0:
        raise ValueError(f"{where}: {name} is empty (shape {X.shape}); at least one sample and "
                         "one feature are needed.")
    if not sparse.issparse(X):
        _require_finite(X, where, name)
    if n_features is not None and width != n_features:
        raise ValueError(f"{where}: {name} has {width} features, but {owner} expects "
                         f"{n_features} (its input width).")
    return X


class Inputs:
    """The input arrays of a network with several inputs, rows aligned, as one value.

    It answers what the training loop and the checks ask of an input array: its
    ``shape`` (rows, then the tuple of widths), its ``dtype`` (float32 only if
    every array is), rows by index or slice, ``astype``.

    Parameters
    ----------
    arrays : sequence of ndarray or scipy.sparse matrix
        One per input, in the order of the network's inputs, validated.
    """

    def __init__(self, arrays):
        self.arrays = tuple(arrays)

    @property
    def shape(self):
        return (self.arrays[0].shape[0], tuple(a.shape[1] for a in self.arrays))

    @property
    def dtype(self):
        f32 = all(a.dtype == np.float32 for a in self.arrays)
        return np.dtype(np.float32 if f32 else np.float64)

    def __len__(self):
        return self.arrays[0].shape[0]

    def __getitem__(self, rows):
        return Inputs([a[rows] for a in self.arrays])

    def astype(self, dtype):
        return Inputs([a.astype(dtype) for a in self.arrays])


def check_input_list(X, where, widths, n_inputs, *, name="X"):
    """Several input arrays: a list or tuple of ``n_inputs`` arrays with equal row counts.

    ``widths`` (a tuple, or None before building) gives each array's width;
    ``n_inputs`` of None means two or more.  Returns :class:`Inputs`.
    """
    if isinstance(X, Inputs):
        X = X.arrays
    if not isinstance(X, (list, tuple)):
        want = "two or more" if n_inputs is None else n_inputs
        raise TypeError(f"{where}: {name} must be a list or tuple of {want} arrays (one per "
                        f"input); got {type(X).__name__}.")
    if n_inputs is not None and len(X) != n_inputs or n_inputs is None and len(X) < 2:
        want = "two or more" if n_inputs is None else n_inputs
        raise ValueError(f"{where}: {name} must hold {want} arrays (one per input, in the "
                         f"order of the inputs); got {len(X)}.")
    arrays = [check_X(a, where, name=f"{name}[{k}]",
                      n_features=None if widths is None else widths[k],
                      owner=f"input {k}")
              for k, a in enumerate(X)]
    check_same_length(where, *((f"{name}[{k}]", a.shape[0]) for k, a in enumerate(arrays)))
    return Inputs(arrays)


def check_input(net, X, where, *, name="X"):
    """``X`` validated as the input of ``net``: one array, or a list for several inputs.

    A network declares its inputs with ``n_inputs`` (1 by default) and, when it
    knows them before building (a Graph), ``input_widths``.
    """
    n_inputs = getattr(net, "n_inputs", 1)
    widths = getattr(net, "input_widths", None)
    if n_inputs == 1:
        if (widths is not None and isinstance(X, (list, tuple)) and len(X) == 1
                and (sparse.issparse(X[0]) or np.ndim(X[0]) == 2)):
            X = X[0]  # a graph's one input array may come in a list (not one row of data)
        width = net.n_in if widths is None else widths[0]
        return check_X(X, where, n_features=width, name=name)
    return check_input_list(X, where, net.n_in if widths is None else widths, n_inputs,
                            name=name)


def check_target(y, where, n_samples, *, name="y", ref_name="X"):
    """A numeric, finite, 1-D or 2-D ``y`` with ``n_samples`` rows.

    Integer and boolean targets keep their dtype (class indices); other
    numbers become float64.
    """
    y = _as_array(y, where, name)
    if y.dtype.kind not in "biuf":
        y = _to_real(y, where, name)
    if y.ndim not in (1, 2):
        got = "a scalar" if y.ndim == 0 else f"a {y.ndim}-D array of shape {y.shape}"
        raise ValueError(f"{where}: {name} must be 1-D (n_samples,) or 2-D (n_samples, "
                         f"n_outputs); got {got}.")
    _require_finite(y, where, name)
    check_same_length(where, (ref_name, n_samples), (name, y.shape[0]))
    return y


def check_sample_weight(sample_weight, where, n_samples, *, name="sample_weight",
                        ref_name="X"):
    """``None``, or 1-D finite non-negative weights of length ``n_samples``, not all zero.

    A scalar is broadcast to every sample.  Returns a float64 array (or ``None``).
    """
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Real) and not isinstance(sample_weight, bool):
        sample_weight = np.full(n_samples, float(sample_weight))
    w = _to_real(_as_array(sample_weight, where, name), where, name, keep=())
    if w.ndim != 1:
        raise ValueError(f"{where}: {name} must be 1-D (n_samples,); got shape {w.shape}.")
    check_same_length(where, (ref_name, n_samples), (name, w.shape[0]))
    _require_finite(w, where, name)
    if (w < 0).any():
        raise ValueError(f"{where}: {name} must be non-negative; got a minimum of "
                         f"{w.min():g}.")
    if not (w > 0).any():
        raise ValueError(f"{where}: {name} is zero for every sample; at least one weight must "
                         "be positive.")
    return w


def check_same_length(where, *named_lengths):
    """Raise unless every ``(name, length)`` pair has the same length."""
    lengths = {n for _, n in named_lengths}
    if len(lengths) > 1:
        detail = ", ".join(f"{name} has {n}" for name, n in named_lengths)
        raise ValueError(f"{where}: inconsistent numbers of samples: {detail}. They must "
                         "match.")


def check_int(value, where, name, *, low=1, allow_inf=False):
    """``value`` as an int ``>= low`` (or ``numpy.inf`` when ``allow_inf``)."""
    if allow_inf and isinstance(value, (float, np.floating)) and value == np.inf:
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral,)):
        extra = " or numpy.inf" if allow_inf else ""
        raise TypeError(f"{where}: {name} must be an int{extra}; got {value!r}.")
    if value < low:
        raise ValueError(f"{where}: {name} must be >= {low}; got {value!r}.")
    return int(value)


def check_real(value, where, name, *, low=None, low_open=False, allow_none=False,
               allow_inf=False):
    """``value`` as a finite float (``>= low``, or ``> low`` when ``low_open``).

    ``allow_inf`` also accepts ``+inf`` (scikit-learn's ``tol`` does).
    """
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        extra = " or None" if allow_none else ""
        raise TypeError(f"{where}: {name} must be a real number{extra}; got {value!r}.")
    value = float(value)
    bad = np.isnan(value) or (value == -np.inf) or (value == np.inf and not allow_inf) or (
        low is not None and (value <= low if low_open else value < low))
    if bad:
        bound = "" if low is None else (" > " if low_open else " >= ") + f"{low:g}"
        what = "a number" if allow_inf else "a finite number"
        raise ValueError(f"{where}: {name} must be {what}{bound}; got {value!r}.")
    return value


def check_objective(net, where, X, y, loss, alpha, sample_weight):
    """Validate the arguments of an objective ``net`` with ``loss`` on ``(X, y)``.

    Returns ``X``, ``y`` in the loss's format (``loss.prepare_target``), the
    weights (float64 or ``None``) and ``alpha`` as a float.
    """
    if not (callable(getattr(loss, "prepare_target", None))
            and callable(getattr(loss, "fuses_with", None))):
        raise TypeError(f"{where}: loss must be an nnlite Loss (e.g. SquaredError(), "
                        f"LogLoss()); got {loss!r}.")
    X = check_input(net, X, where)
    y = check_target(y, where, X.shape[0])
    n_out = net.n_out if net.built else net.output_width(X.shape[1])
    y = loss.prepare_target(y, n_out)
    sample_weight = check_sample_weight(sample_weight, where, X.shape[0])
    if callable(getattr(loss, "_fit_class_weight", None)):  # 'balanced' needs the whole y
        loss._fit_class_weight(y, sample_weight)
    alpha = check_real(alpha, where, "alpha", low=0)
    return X, y, sample_weight, alpha


def _length_of(obj):
    return f"of length {len(obj)}" if hasattr(obj, "__len__") else ""


def check_validation_data(validation_data, where, net, *, numeric_y=True):
    """``(X_val, y_val)`` or ``(X_val, y_val, w_val)``, each part validated.

    With ``numeric_y=False`` (a custom score reads ``y_val``), ``y_val`` may
    hold any labels; only its length is checked.
    """
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise TypeError(f"{where}: validation_data must be a tuple (X_val, y_val) or "
                        "(X_val, y_val, sample_weight_val); got "
                        f"{type(validation_data).__name__} {_length_of(validation_data)}.")
    X_val = check_input(net, validation_data[0], where, name="X_val")
    if numeric_y:
        y_val = check_target(validation_data[1], where, X_val.shape[0], name="y_val",
                             ref_name="X_val")
    else:
        y_val = _as_array(validation_data[1], where, "y_val")
        check_same_length(where, ("X_val", X_val.shape[0]),
                          ("y_val", y_val.shape[0] if y_val.ndim else 0))
    w_val = None
    if len(validation_data) == 3:
        w_val = check_sample_weight(validation_data[2], where, X_val.shape[0],
                                    name="sample_weight_val", ref_name="X_val")
    return (X_val, y_val) if w_val is None else (X_val, y_val, w_val)
