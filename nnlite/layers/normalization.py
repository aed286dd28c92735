"""Normalisation layers: LayerNorm (per sample) and BatchNorm (per feature, over the batch)."""

from __future__ import annotations

import numpy as np

from .. import _validation
from ..params import ParamSpec
from .base import Layer

__all__ = ["LayerNorm", "BatchNorm"]


def _eps(value, where):
    return _validation.check_real(value, where, "eps", low=0, low_open=True)


class _Normalization(Layer):
    """``y = gain * xhat + bias`` with ``xhat = (x - mean) / sqrt(var + eps)``.

    The subclasses say over which axis the statistics run.  The gain and the
    bias are trained but not penalized by ``alpha``.
    """

    def param_specs(self, n_in):
        return [ParamSpec("gain", (n_in,), penalized=False),
                ParamSpec("bias", (n_in,), penalized=False)]

    def reset_parameters(self, rng):
        self.params["gain"][...] = 1.0
        self.params["bias"][...] = 0.0

    def forward(self, x, train=True):
        if self._checks_input:
            x = self._check_input(x)
        return self._forward_fast(x, train, False, False)[0]

    def _scale_shift(self, xhat):
        out = xhat * self.params["gain"]
        out += self.params["bias"]
        return out

    def _backward_fast(self, grad_out, need_grad_in, scratch):
        return self.backward(grad_out)

    def extra_repr(self):
        return (f"{self.n_in}, " if self.n_in is not None else "") + f"eps={self.eps:g}"


class LayerNorm(_Normalization):
    """Normalises every sample over its features, then scales and shifts it.

    ``y = gain * (x - mean) / sqrt(var + eps) + bias`` with the mean and the
    (biased) variance of each row, as PyTorch's ``LayerNorm(n)``.  It behaves the
    same in training and at prediction.

    Parameters
    ----------
    eps : float, default=1e-5
        Added to the variance; a finite number ``> 0``.

    Shape
    -----
    (n_samples, n) -> (n_samples, n).
    Parameters ``gain`` (initially 1) and ``bias`` (initially 0), both ``(n,)``,
    not penalized by ``alpha``.

    Examples
    --------
    >>> import numpy as np
    >>> layer = LayerNorm().build(3)
    >>> layer.forward(np.array([[1.0, 2.0, 3.0]])).round(4)
    array([[-1.2247,  0.    ,  1.2247]])
    """

    def __init__(self, eps: float = 1e-5):
        super().__init__()
        self.eps = _eps(eps, "LayerNorm")
        self._xhat = self._inv_std = None

    def _forward_fast(self, x, train, owned, scratch):
        self._ensure_built(x)
        x = np.asarray(x)
        centred = x - x.mean(axis=1, keepdims=True)
        inv_std = 1.0 / np.sqrt(np.mean(centred * centred, axis=1, keepdims=True) + self.eps)
        xhat = centred
        xhat *= inv_std
        if train:
            self._xhat, self._inv_std = xhat, inv_std
        else:
            self._xhat = self._inv_std = None
        return self._scale_shift(xhat), True

    def backward(self, grad_out):
        xhat = self._xhat
        np.sum(grad_out * xhat, axis=0, out=self.grads["gain"])
        np.sum(grad_out, axis=0, out=self.grads["bias"])
        # d/dx of xhat, row by row: (gx - mean(gx) - xhat * mean(gx * xhat)) / std
        gx = grad_out * self.params["gain"]  # the gradient with respect to xhat
        along = np.mean(gx * xhat, axis=1, keepdims=True)
        gx -= gx.mean(axis=1, keepdims=True)
        gx -= xhat * along
        gx *= self._inv_std
        return gx


class BatchNorm(_Normalization):
    """Normalises every feature over the batch, as PyTorch's ``BatchNorm1d``.

    In training (``forward(x, train=True)``) each feature is normalised with the
    mean and the biased variance of the batch, and the running statistics move
    towards the batch's: ``running = (1 - momentum) * running + momentum *
    batch`` (the running variance takes the unbiased batch variance).  At
    prediction the running statistics are used instead.  A training batch
    needs at least 2 samples.

    The running statistics are non-trainable state (``state["running_mean"]``,
    ``state["running_var"]``, initially 0 and 1): saved and loaded with the
    model, restored when a training run fails, neither trained nor penalized.

    Parameters
    ----------
    momentum : float, default=0.1
        Weight of the current batch in the running statistics, in ``(0, 1]``.
    eps : float, default=1e-5
        Added to the variance; a finite number ``> 0``.

    Shape
    -----
    (n_samples, n) -> (n_samples, n).
    Parameters ``gain`` (initially 1) and ``bias`` (initially 0), both ``(n,)``,
    not penalized by ``alpha``.

    Examples
    --------
    >>> import numpy as np
    >>> layer = BatchNorm().build(2)
    >>> layer.forward(np.array([[1.0, 0.0], [3.0, 0.0]])).round(4)
    array([[-1.,  0.],
           [ 1.,  0.]])
    >>> layer.state["running_mean"], layer.state["running_var"]
    (array([0.2, 0. ]), array([1.1, 0.9]))
    """

    def __init__(self, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        momentum = _validation.check_real(momentum, "BatchNorm", "momentum", low=0,
                                          low_open=True)
        if momentum > 1:
            raise ValueError(f"BatchNorm: momentum must be in (0, 1]; got {momentum!r}.")
        self.momentum = momentum
        self.eps = _eps(eps, "BatchNorm")
        self._xhat = self._inv_std = None

    def state_specs(self, n_in):
        return [ParamSpec("running_mean", (n_in,)), ParamSpec("running_var", (n_in,))]

    def reset_parameters(self, rng):
        super().reset_parameters(rng)
        self.state["running_mean"][...] = 0.0
        self.state["running_var"][...] = 1.0

    def _forward_fast(self, x, train, owned, scratch):
        self._ensure_built(x)
        x = np.asarray(x)
        if not train:
            self._xhat = self._inv_std = None
            xhat = x - self.state["running_mean"]
            xhat /= np.sqrt(self.state["running_var"] + self.eps)
            return self._scale_shift(xhat), True
        n = x.shape[0]
        if n < 2:
            raise ValueError("BatchNorm: a training batch needs at least 2 samples to estimate "
                             "the variance; got 1. Use a larger batch_size (or avoid a last "
                             "batch of one sample).")
        mean = x.mean(axis=0)
        centred = x - mean
        var = np.mean(centred * centred, axis=0)
        inv_std = 1.0 / np.sqrt(var + self.eps)
        m = self.momentum
        rm, rv = self.state["running_mean"], self.state["running_var"]
        rm *= 1 - m
        rm += m * mean
        rv *= 1 - m
        rv += (m * n / (n - 1)) * var
        xhat = centred
        xhat *= inv_std
        self._xhat, self._inv_std = xhat, inv_std
        return self._scale_shift(xhat), True

    def backward(self, grad_out):
        xhat = self._xhat
        gain = self.grads["gain"]
        np.sum(grad_out * xhat, axis=0, out=gain)
        np.sum(grad_out, axis=0, out=self.grads["bias"])
        n = grad_out.shape[0]
        # d/dx of gain * xhat: gain/std * (g - mean(g) - xhat * mean(g * xhat))
        gx = grad_out - self.grads["bias"] / n
        gx -= xhat * (gain / n)
        gx *= self.params["gain"] * self._inv_std
        return gx

    def extra_repr(self):
        return super().extra_repr() + f", momentum={self.momentum:g}"
