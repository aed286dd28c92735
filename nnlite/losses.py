"""Losses: the mean loss over samples and the gradient of the summed loss.

``value(output, y, w)`` is the (weighted) mean over samples of the per-sample
loss, computed column by column like scikit-learn (``np.average`` over
samples, then a sum over outputs).  ``gradient(output, y, w)`` is the
derivative of the weighted *sum* ``sum_i w_i l_i`` with respect to the output;
the network divides by the number of samples (or the weight total) after the
backward pass, together with the L2 penalty, in the order scikit-learn uses.

Each loss names its canonical output layer.  When a network ends in that
layer, :meth:`Loss.fused_value_and_delta` replaces the output layer's backward
pass: the gradient with respect to the logits is simply ``w_i (p_i - y_i)``.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.special import xlogy

from . import _accel, _validation
from .layers import Dense, Exp, Identity, Logistic, Softmax, softmax_parts

__all__ = ["Loss", "SquaredError", "LogLoss", "BinaryLogLoss", "PoissonLoss", "Huber",
           "AbsoluteError"]

_EPS = {np.dtype(t): np.finfo(t).eps for t in (np.float64, np.float32)}


def _mean_over_samples(per_entry, sample_weight):
    """Weighted mean over samples of each column, summed over columns."""
    return float(np.average(per_entry, weights=sample_weight, axis=0).sum())


def _checked(name, raw):
    """``raw`` (a loss's ``value`` or ``gradient``) preceded by the argument checks."""
    @functools.wraps(raw)
    def method(self, output, y, sample_weight=None):
        output, y, sample_weight = self._check_args(name, output, y, sample_weight)
        return raw(self, output, y, sample_weight)
    method._nnlite_checked = True
    return method


def _weighted(g, sample_weight):
    if sample_weight is not None:
        g *= sample_weight.reshape(-1, 1)
    return g


class Loss:
    """Base class of the losses.

    Subclasses implement :meth:`per_entry` (the loss of every sample and
    output) and :meth:`gradient`, and may name a ``canonical_output`` layer
    class.

    Shape
    -----
    output, y : (n_samples, n_outputs); sample_weight : (n_samples,).
    """

    #: Output layer class whose pairing with this loss has the fused gradient ``p - y``.
    canonical_output = None

    def prepare_target(self, y, n_outputs: int) -> np.ndarray:
        """Bring ``y`` to shape ``(n_samples, n_outputs)`` (a 1-D ``y`` becomes a column)."""
        y = np.asarray(y)
        if y.ndim == 1:
            y = y.reshape(-1, 1)
        if y.ndim != 2 or y.shape[1] != n_outputs:
            raise ValueError(
                f"{type(self).__name__}: y must have shape (n_samples, {n_outputs}) to match "
                f"the network's output; got {y.shape}."
            )
        return y

    def per_entry(self, output, y) -> np.ndarray:
        """Loss of every sample and output, shape ``(n_samples, n_outputs)``."""
        raise NotImplementedError

    def __init_subclass__(cls, **kwargs):
        # A subclass writes plain ``value``/``gradient``.  The public names get the
        # argument checks; the network calls the unchecked originals, kept as
        # ``_value``/``_gradient``, so nothing is validated per minibatch.
        super().__init_subclass__(**kwargs)
        for name in ("value", "gradient"):
            raw = cls.__dict__.get(name)
            if raw is not None and not getattr(raw, "_nnlite_checked", False):
                setattr(cls, "_" + name, raw)
                setattr(cls, name, _checked(name, raw))

    def _value(self, output, y, sample_weight=None):
        """Mean loss ``sum_i w_i l_i / sum_i w_i`` (``w_i = 1`` when unweighted).

        ``value`` validates its arguments first: ``output`` must be 2-D, finite
        and real; ``y`` numeric, finite and of the output's shape once
        :meth:`prepare_target` is applied; ``sample_weight`` 1-D, non-negative
        and not all zero.
        """
        return _mean_over_samples(self.per_entry(output, y), sample_weight)

    def _gradient(self, output, y, sample_weight=None):
        """Derivative of ``sum_i w_i l_i`` with respect to ``output`` (same shape).

        ``gradient`` validates its arguments first, as ``value`` does.
        """
        raise NotImplementedError(f"{type(self).__name__} implements no gradient.")

    def _check_args(self, method, output, y, sample_weight):
        where = f"{type(self).__name__}.{method}"
        output = _validation.check_X(output, where, name="output")
        if not isinstance(output, np.ndarray):
            output = output.toarray()
        y = _validation.check_target(y, where, output.shape[0], ref_name="output")
        y = self.prepare_target(y, output.shape[1])
        sample_weight = _validation.check_sample_weight(sample_weight, where, output.shape[0],
                                                        ref_name="output")
        if getattr(self, "class_weight", None) is not None:  # weigh the rows given here
            sample_weight = self._combine(y, sample_weight, self._resolve(y, sample_weight))
        return output, y, sample_weight

    def _row_weights(self, y, sample_weight):
        """The weights of the rows of ``y``: ``sample_weight`` times any class weights."""
        return sample_weight

    def fuses_with(self, layer) -> bool:
        """Whether ``layer`` is this loss's canonical output layer."""
        return self.canonical_output is not None and type(layer) is self.canonical_output

    def fused_value_and_delta(self, logits, y, sample_weight=None, compute_value=True):
        """Mean value and gradient with respect to the *input* of the canonical output layer.

        Parameters
        ----------
        logits : ndarray of shape (n_samples, n_outputs)
            Input of the canonical output layer.
        y : ndarray of shape (n_samples, n_outputs)
        sample_weight : ndarray of shape (n_samples,), optional
        compute_value : bool, default=True

        Returns
        -------
        value : float or None
            The mean loss, as :meth:`value` of the layer's output.
        delta : ndarray of shape (n_samples, n_outputs)
            ``w_i (p_i - y_i)``, ``p`` being the output of the canonical layer.
        """
        p = self.canonical_output._apply(logits)
        value = self._fused_value(logits, p, y, sample_weight) if compute_value else None
        return value, _weighted(p - y, sample_weight)

    def _class_codes(self, y):
        """Per-row class indices when that describes ``y`` exactly, else None (see LogLoss)."""
        return None

    def _codes_suffice(self, net):
        """Whether training ``net`` with class codes can skip gathering y's rows (LogLoss)."""
        return False

    def _fused_inplace(self, logits, y, sample_weight=None, compute_value=True, codes=None):
        """:meth:`fused_value_and_delta` allowed to overwrite ``logits`` (a network's work array).

        The same operations on every element, without the temporary arrays.
        ``codes`` is a batch of :meth:`_class_codes` (a hint a loss may use).
        """
        if (type(self).fused_value_and_delta is not Loss.fused_value_and_delta
                or y.dtype != logits.dtype or y.shape != logits.shape):
            return self.fused_value_and_delta(logits, y, sample_weight, compute_value)
        value = None
        if compute_value and self._value_from_logits():
            value = self._fused_value(logits, None, y, sample_weight)
        p = self.canonical_output._apply_inplace(logits)
        if compute_value and value is None:
            value = self._fused_value(None, p, y, sample_weight)
        np.subtract(p, y, out=p)
        return value, _weighted(p, sample_weight)

    def _fused_program(self, logits, y, compute_value, codes):
        """The calls of :meth:`_fused_inplace` for a recorded training step, or None.

        ``(calls, value_call)``: running each ``call(*args)`` of ``calls``, then
        ``value_call``, does what ``_fused_inplace(logits, y, None, compute_value,
        codes)`` does on these very arrays, and ``value_call`` returns its value; the
        delta is left in ``logits``.  None where a loss has no such calls (the recorded
        step then calls ``_fused_inplace``).
        """
        return None

    def _value_from_logits(self):
        return False

    def _fused_value(self, logits, p, y, sample_weight):
        return self._value(p, y, sample_weight)

    def __repr__(self):
        return f"{type(self).__name__}()"


Loss.value = _checked("value", Loss._value)
Loss.gradient = _checked("gradient", Loss._gradient)


class SquaredError(Loss):
    """Half the squared error summed over outputs: ``l_i = 1/2 sum_k (p_ik - y_ik)^2``.

    Canonical output layer: :class:`~nnlite.Identity`.

    Shape
    -----
    output, y : (n_samples, n_outputs).

    Examples
    --------
    >>> import numpy as np
    >>> SquaredError().value(np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]]))
    1.25
    """

    canonical_output = Identity

    def per_entry(self, output, y):
        return 0.5 * (output - y) ** 2

    def gradient(self, output, y, sample_weight=None):
        return _weighted(output - y, sample_weight)

    def _fused_program(self, logits, y, compute_value, codes):
        call = _accel.squared_error_call(logits, y, compute_value) \
            if type(self) is SquaredError else None
        return None if call is None else ([], call)

    def _fused_inplace(self, logits, y, sample_weight=None, compute_value=True, codes=None):
        # one compiled pass for the delta and the value, bit for bit the numpy result
        if sample_weight is None and type(self) is SquaredError:
            done, value = _accel.squared_error_delta(logits, y, compute_value)
            if done:
                return value, logits
        return super()._fused_inplace(logits, y, sample_weight, compute_value)


class _ProbabilityLoss(Loss):
    """Shared options of the log losses: the value from logits or from clipped
    probabilities, and class weights.

    Class weights become row weights: a row's weight is its sample weight times
    the weight of its class (for one-hot rows; rows of probabilities get the
    expected class weight ``sum_k y_ik c_k``), and the mean is taken over these
    weights, as scikit-learn's classifiers do
    (``sample_weight *= compute_class_weight(...)[y]``).  ``"balanced"`` gives
    class ``c`` the weight ``S / (n_c * S_c)``, ``S_c`` being the (sample-weighted)
    count of class ``c``, ``S`` their total and ``n_c`` the number of classes
    present: scikit-learn's ``compute_class_weight('balanced', ...,
    sample_weight=...)``.
    """

    def __init__(self, value_from_logits: bool = True, class_weight=None):
        self.value_from_logits = bool(value_from_logits)
        self.class_weight = _check_class_weight(class_weight, type(self).__name__,
                                                self._class_labels)
        self.class_weight_ = None

    #: The labels a class_weight dict may use (None: 0 .. n_classes - 1).
    _class_labels = None
    # class defaults, so that losses pickled before class weights existed still load
    class_weight = class_weight_ = None

    def _fit_class_weight(self, y, sample_weight):
        """Resolve ``class_weight`` on an objective's whole target (``train``)."""
        if self.class_weight is not None:
            self.class_weight_ = self._resolve(y, sample_weight)
            self._combine(y, sample_weight, self.class_weight_)  # refuses all-zero weights

    def _row_weights(self, y, sample_weight):
        cw = self.class_weight_
        if self.class_weight is None:
            return sample_weight
        if cw is None or len(cw) != self._n_class_columns(y):
            if isinstance(self.class_weight, str):
                raise ValueError(
                    f"{type(self).__name__}: class_weight='balanced' is computed from the "
                    "training target: call train() or Sequential.loss_and_grad() first."
                )
            cw = self.class_weight_ = self._resolve(y, None)
        return self._combine(y, sample_weight, cw, check=False)

    def _n_class_columns(self, y):
        return y.shape[1]

    def _combine(self, y, sample_weight, cw, check=True):
        w = self._class_factor(y, cw.astype(y.dtype) if y.dtype.kind == "f" else cw)
        if sample_weight is not None:
            w = w * sample_weight
        if check and not np.any(w > 0):
            raise ValueError(
                f"{type(self).__name__}: with class_weight={self.class_weight!r} every sample "
                "has weight 0. Give some class present in y a positive weight."
            )
        return w

    def _value_from_logits(self):
        return self.value_from_logits

    def _fused_value(self, logits, p, y, sample_weight):
        if self.value_from_logits:
            return _mean_over_samples(self._per_entry_from_logits(logits, y), sample_weight)
        return self._value(p, y, sample_weight)

    @staticmethod
    def _clip(p):
        eps = np.finfo(p.dtype).eps if p.dtype.kind == "f" else np.finfo(float).eps
        return np.clip(p, eps, 1 - eps)

    def __repr__(self):
        args = [] if self.value_from_logits else ["value_from_logits=False"]
        if self.class_weight is not None:
            args.append(f"class_weight={self.class_weight!r}")
        return f"{type(self).__name__}({', '.join(args)})"


class LogLoss(_ProbabilityLoss):
    """Categorical cross-entropy ``l_i = -sum_k y_ik log p_ik``.

    Canonical output layer: :class:`~nnlite.Softmax`.  ``y`` may be one-hot
    (or rows of class probabilities) or a 1-D vector of integer class indices.

    Parameters
    ----------
    value_from_logits : bool, default=True
        With a Softmax output, compute the value from the logits through
        ``log_softmax`` (exact even for hopeless predictions).  If false, use
        scikit-learn's formula: probabilities clipped to ``[eps, 1 - eps]``
        (each sample then costs at most ``-log(eps)``, about 36 in float64);
        the gradient is the same either way.
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, keyed by class index (the column of ``y``;
        ``{0: ..., 1: ...}`` with a single probability column).  A row's
        weight becomes ``sample_weight * class_weight[class]``; see
        :ref:`class weights <class-weights>`.  Classes left out weigh 1.

    Attributes
    ----------
    class_weight_ : ndarray of shape (n_classes,) or None
        The weights in use, resolved on the training target by ``train`` (or
        ``Sequential.loss_and_grad``).

    Shape
    -----
    output, y : (n_samples, n_classes); or y : (n_samples,) of ints.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[0.8, 0.2], [0.4, 0.6]]); y = np.array([0, 1])
    >>> round(LogLoss(class_weight={1: 3.0}).value(p, y), 4)  # (-log 0.8 - 3 log 0.6) / 4
    0.4389
    """

    canonical_output = Softmax

    def _n_class_columns(self, y):
        return max(y.shape[1], 2)

    def _class_factor(self, y, cw):
        if y.shape[1] == 1:  # one probability column: the positive class of two
            return (1 - y[:, 0]) * cw[0] + y[:, 0] * cw[1]
        return y @ cw

    def _resolve(self, y, sample_weight):
        k = self._n_class_columns(y)
        if y.shape[1] == 1:
            y = np.hstack([1 - y, y])
        return _class_weight_vector(self.class_weight, y, sample_weight, k,
                                    type(self).__name__)

    def prepare_target(self, y, n_outputs):
        y = np.asarray(y)
        if y.ndim == 1 and n_outputs > 1:
            if not np.issubdtype(y.dtype, np.integer):
                raise ValueError(
                    "LogLoss: a 1-D y must hold integer class indices; "
                    f"got dtype {y.dtype}. Pass one-hot rows instead."
                )
            if y.size and (y.min() < 0 or y.max() >= n_outputs):
                raise ValueError(
                    f"LogLoss: class indices in y must lie in [0, {n_outputs - 1}]; "
                    f"got values from {y.min()} to {y.max()}."
                )
            onehot = np.zeros((y.shape[0], n_outputs))
            onehot[np.arange(y.shape[0]), y] = 1.0
            return onehot
        return super().prepare_target(y, n_outputs)

    def _class_codes(self, y):
        """The class of every row if ``y`` is exactly one-hot (0/1, one 1 per row), else None.

        Computed once per fit; the training loop hands batches of it to
        :meth:`_fused_inplace`, which then reads one probability per row
        instead of the whole ``(n, k)`` matrix.
        """
        if (type(self) is not LogLoss or self.class_weight is not None or y.ndim != 2
                or y.shape[1] < 2 or y.shape[0] == 0):
            return None
        codes = y.argmax(axis=1)
        rows = np.arange(y.shape[0])
        if not (np.all(y[rows, codes] == 1) and np.count_nonzero(y) == y.shape[0]):
            return None
        return codes

    def _codes_suffice(self, net):
        """Whether ``net._loss_and_grad`` with class codes and no weights never reads y's values.

        True when this exact loss gets a Dense layer's fresh output as the input of a
        final Softmax: that is the path of :meth:`_fused_inplace` below.
        """
        return (type(self) is LogLoss and self.class_weight is None
                and self.fuses_with(net.layers[-1])
                and type(net._logits_layer()) is Dense)

    def _fused_program(self, logits, y, compute_value, codes):
        # the compiled path of _fused_inplace below, when it reads no logit of the true
        # class (the value comes from the clipped probabilities)
        z = logits
        if (codes is None or type(self) is not LogLoss or y.dtype != z.dtype
                or y.shape != z.shape or (compute_value and self.value_from_logits)):
            return None
        shift = _accel.softmax_shift_call(z)
        finish = _accel.softmax_finish_codes_call(
            z, codes, np.empty(z.shape[1], z.dtype), None, compute_value,
            _EPS.get(z.dtype) or np.finfo(z.dtype).eps)
        if shift is None or finish is None:
            return None
        return [shift, (np.exp, (z, z))], finish

    def _fused_inplace(self, logits, y, sample_weight=None, compute_value=True, codes=None):
        if (codes is None or sample_weight is not None
                or type(self) is not LogLoss or y.dtype != logits.dtype
                or y.shape != logits.shape):
            return super()._fused_inplace(logits, y, sample_weight, compute_value)
        # With one-hot rows, every entry of the per-entry loss matrix is zero except one
        # per row.  The column means below add those entries in row order and divide as
        # np.average does, so the value is bit for bit the one of the full computation.
        # The compiled kernels (see _accel) do the same in two passes around np.exp.
        z = logits
        n, k = z.shape
        flat = None
        picked = np.empty(n, z.dtype) if compute_value and self.value_from_logits else None
        if not _accel.softmax_shift(z, None if picked is None else codes, picked):
            flat = np.arange(0, n * k, k)
            flat += codes
            z -= z.max(axis=1)[:, np.newaxis]
            if picked is not None:
                picked = z.ravel()[flat]  # shifted logit of the true class
        np.exp(z, out=z)
        eps = _EPS.get(z.dtype) or np.finfo(z.dtype).eps
        sums = None if picked is None else np.empty(n, z.dtype)
        done, value = _accel.softmax_finish_codes(z, codes, np.empty(k, z.dtype), sums,
                                                  compute_value, eps)
        if done and picked is None:  # p - y and, if asked, the clipped value
            return value, z
        if not done:
            if flat is None:
                flat = np.arange(0, n * k, k)
                flat += codes
            sums = z.sum(axis=1)
            z /= sums[:, np.newaxis]
        if compute_value:
            if picked is not None:
                picked -= np.log(sums)  # log p of the true class
            else:
                picked = z.ravel()[flat]
                np.clip(picked, eps, 1 - eps, out=picked)
                picked = xlogy(np.ones(1, y.dtype), picked)
            np.negative(picked, out=picked)
            col = np.zeros(k, picked.dtype)
            np.add.at(col, codes, picked)
            np.true_divide(col, np.intp(n), out=col, casting="unsafe")
            value = float(col.sum())
        if not done:
            z.ravel()[flat] -= 1  # p - y
        return value, z

    def per_entry(self, output, y):
        p = self._clip(output)
        if p.shape[1] == 1:  # one probability column: the positive class of two
            p = np.hstack([1 - p, p])
            y = np.hstack([1 - y, y])
        return -xlogy(y, p)

    def _per_entry_from_logits(self, logits, y):
        shifted, sums, _ = softmax_parts(logits)
        log_p = shifted - np.log(sums)
        return -(y * log_p)

    def gradient(self, output, y, sample_weight=None):
        if output.shape[1] == 1:  # the two-class expansion of per_entry
            return BinaryLogLoss._gradient(self, output, y, sample_weight)
        with np.errstate(divide="ignore", invalid="ignore"):
            g = -np.where(y != 0, y / output, 0.0)
        return _weighted(g, sample_weight)


class BinaryLogLoss(_ProbabilityLoss):
    """Binary cross-entropy summed over outputs: ``l_i = -sum_k [y log p + (1-y) log(1-p)]``.

    Canonical output layer: :class:`~nnlite.Logistic`.  Several output
    columns are independent binary problems (multilabel).

    Parameters
    ----------
    value_from_logits : bool, default=True
        As for :class:`LogLoss` (the logits route uses ``softplus(z) - y z``).
    class_weight : dict, list of dicts, 'balanced' or None, default=None
        Weights of the classes 0 and 1 (``{0: w0, 1: w1}``), the same for every
        output column, or a list with one such dict per column.  A row's weight
        becomes ``sample_weight`` times the product over columns of its
        class's weight (scikit-learn's ``compute_sample_weight`` for several
        outputs); ``'balanced'`` balances every column.  See
        :ref:`class weights <class-weights>`.

    Attributes
    ----------
    class_weight_ : ndarray of shape (n_outputs, 2) or None
        The weights in use, resolved on the training target.

    Shape
    -----
    output, y : (n_samples, n_outputs), y in [0, 1].
    """

    canonical_output = Logistic
    _class_labels = (0, 1)

    def _class_factor(self, y, cw):
        w = None
        for j in range(y.shape[1]):
            f = (1 - y[:, j]) * cw[j, 0] + y[:, j] * cw[j, 1]
            w = f if w is None else w * f
        return w

    def _resolve(self, y, sample_weight):
        name = type(self).__name__
        cws = self.class_weight
        if isinstance(cws, list):
            if len(cws) != y.shape[1]:
                raise ValueError(
                    f"{name}: class_weight is a list of {len(cws)} dicts; y has "
                    f"{y.shape[1]} output column(s): give one dict per column."
                )
        else:
            cws = [cws] * y.shape[1]
        return np.array([_class_weight_vector(c, np.stack([1 - y[:, j], y[:, j]], axis=1),
                                              sample_weight, 2, name)
                         for j, c in enumerate(cws)]).reshape(y.shape[1], 2)

    def _n_class_columns(self, y):
        return y.shape[1]

    def per_entry(self, output, y):
        p = self._clip(output)
        return -(xlogy(y, p) + xlogy(1 - y, 1 - p))

    def _per_entry_from_logits(self, logits, y):
        # -[y log s(z) + (1-y) log s(-z)] = softplus(z) - y z, overflow-free
        return np.logaddexp(0, logits) - y * logits

    def gradient(self, output, y, sample_weight=None):
        with np.errstate(divide="ignore", invalid="ignore"):
            g = (np.where(y != 0, -y / output, 0.0)
                 + np.where(y != 1, (1 - y) / (1 - output), 0.0))
        return _weighted(g, sample_weight)


class PoissonLoss(Loss):
    """Half Poisson deviance: ``l_i = sum_k [y log(y/p) - y + p]`` (zero at ``p = y``).

    Canonical output layer: :class:`~nnlite.Exp`.  Targets must be non-negative
    (:meth:`prepare_target` refuses negative ones).

    Shape
    -----
    output, y : (n_samples, n_outputs), output > 0, y >= 0.
    """

    canonical_output = Exp

    def prepare_target(self, y, n_outputs):
        y = super().prepare_target(y, n_outputs)
        if np.any(y < 0):
            raise ValueError("PoissonLoss: y must be non-negative; got negative values.")
        return y

    def per_entry(self, output, y):
        return xlogy(y, y / output) - y + output

    def gradient(self, output, y, sample_weight=None):
        return _weighted(1 - y / output, sample_weight)


def _check_class_weight(class_weight, owner, labels):
    """``class_weight`` validated: None, ``'balanced'``, a dict (or a list of them)."""
    if class_weight is None or (isinstance(class_weight, str) and class_weight == "balanced"):
        return class_weight
    if isinstance(class_weight, list) and labels is not None:
        if not class_weight:
            raise ValueError(f"{owner}: class_weight is an empty list.")
        return [_check_class_dict(c, owner, labels) for c in class_weight]
    if isinstance(class_weight, dict):
        return _check_class_dict(class_weight, owner, labels)
    allowed = "a dict, a list of dicts, " if labels is not None else "a dict, "
    raise TypeError(f"{owner}: class_weight must be {allowed}'balanced' or None; "
                    f"got {class_weight!r}.")


def _check_class_dict(d, owner, labels):
    if not isinstance(d, dict):
        raise TypeError(f"{owner}: class_weight entries must be dicts; got {d!r}.")
    out = {}
    for label, weight in d.items():
        if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)):
            raise TypeError(f"{owner}: class_weight keys must be class indices (ints); "
                            f"got {label!r}.")
        if labels is not None and label not in labels:
            raise ValueError(f"{owner}: class_weight has the label {label!r}, which is not a "
                             f"class of y; the classes are {list(labels)}.")
        real = isinstance(weight, (int, float, np.integer, np.floating))
        if (isinstance(weight, (bool, np.bool_)) or not real or not np.isfinite(weight)
                or weight < 0):
            raise ValueError(f"{owner}: class_weight[{label!r}] must be a finite number >= 0; "
                             f"got {weight!r}.")
        out[int(label)] = float(weight)
    # classes left out weigh 1: all zero is known here only when every class is named
    # (otherwise train refuses targets whose rows all weigh 0)
    if labels is not None and set(out) == set(labels) and not any(out.values()):
        raise ValueError(f"{owner}: every weight in class_weight is 0; "
                         "give at least one class a positive weight.")
    return out


def _class_weight_vector(class_weight, onehot, sample_weight, n_classes, owner):
    """One weight per class (column of ``onehot``), as scikit-learn's compute_class_weight."""
    if isinstance(class_weight, str):  # 'balanced', from the (weighted) class counts
        w = np.ones(onehot.shape[0]) if sample_weight is None else sample_weight
        labels = onehot.argmax(axis=1)
        if np.array_equal(onehot, np.eye(n_classes)[labels]):  # hard labels: sklearn's sums
            counts = np.bincount(labels, weights=w, minlength=n_classes)
        else:  # rows of probabilities count fractionally
            counts = w @ onehot
        present = counts > 0
        cw = np.ones(n_classes)
        cw[present] = counts[present].sum() / (np.count_nonzero(present) * counts[present])
        return cw
    missing = [c for c in class_weight if not 0 <= c < n_classes]
    if missing:
        raise ValueError(f"{owner}: class_weight has the label(s) {missing}, which are not "
                         f"classes of y; the classes are 0 to {n_classes - 1}.")
    cw = np.ones(n_classes)
    for c, weight in class_weight.items():
        cw[c] = weight
    return cw


class Huber(Loss):
    """Huber's loss: squared near the target, linear far from it.

    With ``r = p - y`` and ``d = delta``, summed over outputs::

        l_i = sum_k  r^2 / 2              if |r| <= d
                     d (|r| - d / 2)      otherwise

    Its gradient ``clip(r, -d, d)`` is continuous: the loss of
    :class:`SquaredError` for small residuals, of :class:`AbsoluteError`
    (times ``d``) for outliers.  PyTorch's ``HuberLoss`` and Keras's ``Huber``
    per entry.  No output layer fuses with it; end the network in
    :class:`~nnlite.Identity`.

    Parameters
    ----------
    delta : float > 0, default=1.0
        Where the loss turns from quadratic to linear.

    Shape
    -----
    output, y : (n_samples, n_outputs).

    Examples
    --------
    >>> import numpy as np
    >>> Huber(delta=1.0).value(np.array([[0.5], [3.0]]), np.zeros((2, 1)))  # (0.125 + 2.5) / 2
    1.3125
    """

    def __init__(self, delta: float = 1.0):
        self.delta = _validation.check_real(delta, "Huber", "delta", low=0, low_open=True)

    def per_entry(self, output, y):
        r = np.abs(output - y)
        d = self.delta
        return np.where(r <= d, 0.5 * r * r, d * (r - 0.5 * d))

    def gradient(self, output, y, sample_weight=None):
        return _weighted(np.clip(output - y, -self.delta, self.delta), sample_weight)

    def __repr__(self):
        return f"Huber(delta={self.delta!r})"


class AbsoluteError(Loss):
    """The absolute error summed over outputs: ``l_i = sum_k |p_ik - y_ik|``.

    Not differentiable where ``p = y``: the gradient used there is the
    subgradient 0 (``sign(p - y)``, as ``numpy.sign``), so an exact fit stays
    put.  Its minimiser is the conditional median.  No output layer fuses
    with it; end the network in :class:`~nnlite.Identity`.

    Shape
    -----
    output, y : (n_samples, n_outputs).

    Examples
    --------
    >>> import numpy as np
    >>> AbsoluteError().value(np.array([[1.0, -1.0]]), np.zeros((1, 2)))
    2.0
    >>> AbsoluteError().gradient(np.array([[2.0, 0.0]]), np.zeros((1, 2)))
    array([[1., 0.]])
    """

    def per_entry(self, output, y):
        return np.abs(output - y)

    def gradient(self, output, y, sample_weight=None):
        return _weighted(np.sign(output - y), sample_weight)
