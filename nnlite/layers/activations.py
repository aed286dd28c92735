"""Element-wise activations (and the row-wise softmax), each with its derivative beside it."""

from __future__ import annotations

import numpy as np
from scipy.special import erf, expit

from .. import _accel, _validation
from .base import Layer

__all__ = ["Identity", "Tanh", "ReLU", "Logistic", "Exp", "Softmax", "LeakyReLU", "ELU",
           "GELU", "Softplus", "SiLU", "add_bias_relu", "softmax_parts", "softmax_inplace"]


class _Activation(Layer):
    """Element-wise map whose derivative is expressed through its output."""

    def forward(self, x, train=True):
        if self._checks_input:
            x = self._check_input(x)
        return self._forward_fast(x, train, False, False)[0]  # never writes the caller's x

    def backward(self, grad_out):
        return self._derivative_times(self._z, grad_out)

    def _apply_inplace(self, x):
        """``_apply(x)`` written into ``x``."""
        x[...] = self._apply(x)
        return x

    def _derivative_inplace(self, z, g):
        """``_derivative_times(z, g)`` using work arrays kept by the layer."""
        return self._derivative_times(z, g)

    def _forward_fast(self, x, train, owned, scratch):
        if not self.built:
            self._bind(x.shape[1], {}, {})
        z = self._apply_inplace(x) if owned else self._apply(np.asarray(x))
        self._z = z if train else None
        return z, not train  # in training z is kept for backward: the next layer must not write it

    def _backward_fast(self, grad_out, need_grad_in, scratch):
        return self._derivative_inplace(self._z, grad_out)


class Identity(_Activation):
    """``f(x) = x``.

    Shape
    -----
    (n_samples, n) -> (n_samples, n).
    """

    @staticmethod
    def _apply(x):  # used by the fused Identity + SquaredError pair
        return x

    def forward(self, x, train=True):
        if self._checks_input:
            x = self._check_input(x)
        if not self.built:
            self._bind(x.shape[1], {}, {})
        return x

    def backward(self, grad_out):
        return grad_out

    @staticmethod
    def _apply_inplace(x):
        return x

    def _forward_fast(self, x, train, owned, scratch):
        if not self.built:
            self._bind(x.shape[1], {}, {})
        return x, owned

    def _backward_fast(self, grad_out, need_grad_in, scratch):
        return grad_out


class Tanh(_Activation):
    """``f(x) = tanh(x)``; ``f' = 1 - f**2``.

    Shape
    -----
    (n_samples, n) -> (n_samples, n).
    """

    @staticmethod
    def _apply(x):
        return np.tanh(x)

    @staticmethod
    def _apply_inplace(x):
        return np.tanh(x, out=x)

    @staticmethod
    def _derivative_times(z, g):
        g *= 1 - z**2
        return g

    def _derivative_inplace(self, z, g):
        tmp = self._buffer("tmp", z.shape, z.dtype)
        np.multiply(z, z, out=tmp)
        np.subtract(1, tmp, out=tmp)
        g *= tmp
        return g


class ReLU(_Activation):
    """``f(x) = max(x, 0)``; the derivative at 0 is taken as 0.

    Shape
    -----
    (n_samples, n) -> (n_samples, n).
    """

    @staticmethod
    def _apply(x):
        return np.maximum(x, 0)

    @staticmethod
    def _apply_inplace(x):
        return add_bias_relu(x, None, True)

    @staticmethod
    def _derivative_times(z, g):
        g *= z > 0
        return g

    def _derivative_inplace(self, z, g):
        if _accel.relu_backward(g, z):
            return g
        # scikit-learn's delta[Z == 0] = 0, as a masked copy (faster than the scatter)
        mask = self._buffer("mask", z.shape, np.bool_)
        np.equal(z, 0, out=mask)
        np.copyto(g, 0, where=mask)
        return g


class Logistic(_Activation):
    """``f(x) = 1 / (1 + exp(-x))`` (overflow-free); ``f' = f (1 - f)``.

    Shape
    -----
    (n_samples, n) -> (n_samples, n).
    """

    @staticmethod
    def _apply(x):
        return expit(x)

    @staticmethod
    def _apply_inplace(x):
        return expit(x, out=x)

    @staticmethod
    def _derivative_times(z, g):
        g *= z
        g *= 1 - z
        return g

    def _derivative_inplace(self, z, g):
        tmp = self._buffer("tmp", z.shape, z.dtype)
        g *= z
        np.subtract(1, z, out=tmp)
        g *= tmp
        return g


class Exp(_Activation):
    """``f(x) = exp(x)``, the inverse link of the Poisson loss.

    Shape
    -----
    (n_samples, n) -> (n_samples, n).
    """

    @staticmethod
    def _apply(x):
        return np.exp(x)

    @staticmethod
    def _apply_inplace(x):
        return np.exp(x, out=x)

    @staticmethod
    def _derivative_times(z, g):
        g *= z
        return g


def add_bias_relu(out, b, relu):
    """``out += b`` (unless ``b`` is None), then ``out = max(out, 0)`` if ``relu``; in place.

    One pass with the compiled kernels, two numpy operations otherwise; the same bits.
    """
    if (b is not None or relu) and not _accel.add_bias_relu(out, b, relu):
        if b is not None:
            out += b
        if relu:
            np.maximum(out, 0, out=out)
    return out


def softmax_parts(x):
    """Row-wise softmax of ``x`` with the pieces a log-loss reuses.

    Returns
    -------
    shifted : ndarray
        ``x - max(x, axis=1)``.
    sums : ndarray of shape (n_samples, 1)
        ``sum(exp(shifted), axis=1)``.
    p : ndarray
        ``exp(shifted) / sums``.
    """
    shifted = x - x.max(axis=1)[:, np.newaxis]
    p = np.exp(shifted)
    sums = p.sum(axis=1)[:, np.newaxis]
    p /= sums
    return shifted, sums, p


def softmax_inplace(x):
    """Row-wise softmax written into ``x``, with the operations of :func:`softmax_parts`."""
    if not _accel.softmax_shift(x):  # numpy's row maximum is slow on narrow rows
        x -= x.max(axis=1)[:, np.newaxis]
    np.exp(x, out=x)
    if not _accel.softmax_normalise(x):
        x /= x.sum(axis=1)[:, np.newaxis]
    return x


class Softmax(_Activation):
    """Row-wise ``exp(x_k) / sum_j exp(x_j)``, computed with the row maximum removed.

    The backward pass is the vectorised Jacobian product
    ``p * (g - sum(g * p, axis=1))``.

    Shape
    -----
    (n_samples, n) -> (n_samples, n), rows summing to 1.
    """

    @staticmethod
    def _apply(x):
        return softmax_parts(x)[2]

    @staticmethod
    def _apply_inplace(x):
        return softmax_inplace(x)

    @staticmethod
    def _derivative_times(p, g):
        return p * (g - (g * p).sum(axis=1, keepdims=True))


def _slope(value, where, name):
    """A finite real ``>= 0`` (the activations' derivatives are read from their outputs)."""
    return _validation.check_real(value, where, name, low=0)


class LeakyReLU(_Activation):
    """``f(x) = x`` for ``x > 0``, ``negative_slope * x`` otherwise; the derivative at 0 is
    taken as ``negative_slope``.

    Parameters
    ----------
    negative_slope : float, default=0.01
        Slope for negative inputs, a finite number ``>= 0`` (so that the sign of
        the output tells the side of the kink; ``0`` gives ReLU's values).

    Shape
    -----
    (n_samples, n) -> (n_samples, n).

    Examples
    --------
    >>> import numpy as np
    >>> LeakyReLU(0.1).forward(np.array([[-2.0, 3.0]]))
    array([[-0.2,  3. ]])
    """

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = _slope(negative_slope, "LeakyReLU", "negative_slope")

    def _apply(self, x):
        return np.where(x > 0, x, self.negative_slope * x)

    def _derivative_times(self, z, g):
        g *= np.where(z > 0, 1.0, self.negative_slope).astype(g.dtype, copy=False)
        return g

    def extra_repr(self):
        return f"negative_slope={self.negative_slope:g}"


class ELU(_Activation):
    """``f(x) = x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise (no overflow).

    The derivative is read from the output: ``1`` where ``f > 0``, ``f + alpha``
    elsewhere.

    Parameters
    ----------
    alpha : float, default=1.0
        Saturation value for large negative inputs is ``-alpha``; a finite
        number ``>= 0``.

    Shape
    -----
    (n_samples, n) -> (n_samples, n).

    Examples
    --------
    >>> import numpy as np
    >>> ELU().forward(np.array([[0.0, 2.0]]))
    array([[0., 2.]])
    """

    def __init__(self, alpha: float = 1.0):
        super().__init__()
        self.alpha = _slope(alpha, "ELU", "alpha")

    def _apply(self, x):
        # expm1 of the negative part only: exp never sees a large positive input
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))

    def _derivative_times(self, z, g):
        g *= np.where(z > 0, 1.0, z + self.alpha).astype(g.dtype, copy=False)
        return g

    def extra_repr(self):
        return f"alpha={self.alpha:g}"


class _InputActivation(_Activation):
    """Element-wise map whose derivative needs its input (cached as ``_x``)."""

    def backward(self, grad_out):
        return self._derivative_times(self._x, grad_out)

    def _forward_fast(self, x, train, owned, scratch):
        if not self.built:
            self._bind(x.shape[1], {}, {})
        x = np.asarray(x)
        self._x = x if train else None  # a fresh output below: x itself stays intact
        return self._apply(x), True

    def _backward_fast(self, grad_out, need_grad_in, scratch):
        return self._derivative_times(self._x, grad_out)


class GELU(_InputActivation):
    """``f(x) = x * Phi(x)`` with ``Phi`` the standard normal CDF, in its exact erf form.

    ``Phi(x) = (1 + erf(x / sqrt(2))) / 2``; ``f' = Phi(x) + x * phi(x)``.  The
    values are those of PyTorch's ``gelu`` (``approximate="none"``).

    Shape
    -----
    (n_samples, n) -> (n_samples, n).

    Examples
    --------
    >>> import numpy as np
    >>> GELU().forward(np.array([[0.0, 1.0]])).round(6)
    array([[0.      , 0.841345]])
    """

    @staticmethod
    def _apply(x):
        return x * (0.5 * (1.0 + erf(x * _SQRT_HALF)))

    @staticmethod
    def _derivative_times(x, g):
        cdf = 0.5 * (1.0 + erf(x * _SQRT_HALF))
        pdf = np.exp(-0.5 * x * x) * _INV_SQRT_2PI
        g *= cdf + x * pdf
        return g


class Softplus(_Activation):
    """``f(x) = log(1 + exp(x))``, computed as ``logaddexp(0, x)`` (no overflow).

    ``f' = expit(x) = 1 - exp(-f)``, read from the output.

    Shape
    -----
    (n_samples, n) -> (n_samples, n), positive.

    Examples
    --------
    >>> import numpy as np
    >>> Softplus().forward(np.array([[-1000.0, 0.0, 1000.0]])).tolist()
    [[0.0, 0.6931471805599453, 1000.0]]
    """

    @staticmethod
    def _apply(x):
        return np.logaddexp(0, x)

    @staticmethod
    def _derivative_times(z, g):
        g *= -np.expm1(-z)  # 1 - exp(-f), accurate where f is tiny
        return g


class SiLU(_InputActivation):
    """``f(x) = x * expit(x)`` (swish), overflow-free; ``f' = s (1 + x (1 - s))``, ``s = expit(x)``.

    Shape
    -----
    (n_samples, n) -> (n_samples, n).

    Examples
    --------
    >>> import numpy as np
    >>> SiLU().forward(np.array([[0.0, -1000.0, 1000.0]]))
    array([[   0.,   -0., 1000.]])
    """

    @staticmethod
    def _apply(x):
        return x * expit(x)

    @staticmethod
    def _derivative_times(x, g):
        s = expit(x)
        g *= s * (1.0 + x * (1.0 - s))
        return g


_SQRT_HALF = float(np.sqrt(0.5))
_INV_SQRT_2PI = float(1.0 / np.sqrt(2.0 * np.pi))
