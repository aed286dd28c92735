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

__all__ = ["Loss", "SquaredError", "LogLoss", "BinaryLogLoss", "PoissonLoss"]

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
        return output, y, sample_weight

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

    def _fused_inplace(self, logits, y, sample_weight=None, compute_value=True, codes=None):
        # one compiled pass for the delta and the value, bit for bit the numpy result
        if sample_weight is None and type(self) is SquaredError:
            done, value = _accel.squared_error_delta(logits, y, compute_value)
            if done:
                return value, logits
        return super()._fused_inplace(logits, y, sample_weight, compute_value)


class _ProbabilityLoss(Loss):
    """Shared option of the log losses: the value from logits or from clipped probabilities."""

    def __init__(self, value_from_logits: bool = True):
        self.value_from_logits = bool(value_from_logits)

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
        arg = "" if self.value_from_logits else "value_from_logits=False"
        return f"{type(self).__name__}({arg})"


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

    Shape
    -----
    output, y : (n_samples, n_classes); or y : (n_samples,) of ints.
    """

    canonical_output = Softmax

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
        if type(self) is not LogLoss or y.ndim != 2 or y.shape[1] < 2 or y.shape[0] == 0:
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
        return (type(self) is LogLoss and self.fuses_with(net.layers[-1])
                and type(net._logits_layer()) is Dense)

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

    Shape
    -----
    output, y : (n_samples, n_outputs), y in [0, 1].
    """

    canonical_output = Logistic

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
