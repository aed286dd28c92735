"""RMSProp, as ``torch.optim.RMSprop`` defines it."""

from __future__ import annotations

import numpy as np

from .base import _check_real, _Stochastic

__all__ = ["RMSProp"]


class RMSProp(_Stochastic):
    """Divide the gradient by a running root mean square of its recent values (Hinton).

    Per step, with the base rate ``lr`` and ``s`` (and ``a``, ``b``) starting at zero::

        s <- rho s + (1 - rho) g**2
        a <- a + (1 - rho) (g - a)              (centered only)
        d = sqrt(s) + epsilon                   (centered: sqrt(max(s - a**2, 0)) + epsilon)
        b <- momentum b + g / d;  theta -= lr b (momentum > 0)
        theta -= lr g / d                       (momentum = 0)

    exactly ``torch.optim.RMSprop`` (whose ``alpha`` is ``rho`` here; nnlite's
    ``alpha`` is the L2 penalty).  Epsilon is added outside the square root.
    The centered variance is clamped at zero where rounding would make it
    negative (PyTorch returns NaN there).

    Parameters
    ----------
    learning_rate : float or Schedule, default=0.01
    rho : float in [0, 1), default=0.99
        Decay of the running mean square.
    epsilon : float > 0, default=1e-8
    momentum : float in [0, 1], default=0.0
    centered : bool, default=False
        Divide by an estimate of the gradient's standard deviation instead.
    clip_norm, clip_value : float > 0, optional
        Gradient clipping, as for :class:`~nnlite.SGD`.

    Attributes
    ----------
    t : int
    square_avg : ndarray of shape (n_params,)
        ``s``.
    grad_avg : ndarray of shape (n_params,) or None
        ``a`` (centered only).
    momentum_buffer : ndarray of shape (n_params,) or None
        ``b`` (momentum > 0 only).
    base_lr : float
        The current base rate ``lr``.

    Examples
    --------
    >>> import numpy as np
    >>> theta = np.zeros(1)
    >>> RMSProp(learning_rate=0.01, rho=0.75).init(theta).step(theta, np.array([4.0])); theta
    array([-0.02])
    """

    def __init__(self, learning_rate=0.01, rho=0.99, epsilon=1e-8, momentum=0.0,
                 centered=False, *, clip_norm=None, clip_value=None):
        super().__init__(learning_rate, clip_norm, clip_value)
        self.rho = _check_real(rho, "rho", "RMSProp", 0, 1, high_open=True)
        self.epsilon = _check_real(epsilon, "epsilon", "RMSProp", 0, low_open=True)
        self.momentum = _check_real(momentum, "momentum", "RMSProp", 0, 1)
        self.centered = bool(centered)
        self.square_avg = self.grad_avg = self.momentum_buffer = None

    def _rule_params(self):
        return {"rho": self.rho, "epsilon": self.epsilon, "momentum": self.momentum,
                "centered": self.centered}

    def _init_state(self, theta):
        self.square_avg = np.zeros_like(theta)
        self.grad_avg = np.zeros_like(theta) if self.centered else None
        self.momentum_buffer = np.zeros_like(theta) if self.momentum > 0 else None
        self._tmp = np.empty_like(theta)
        self._den = np.empty_like(theta)

    def _update(self, theta, g, lr):
        s, tmp, den = self.square_avg, self._tmp, self._den
        s *= self.rho
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.rho
        s += tmp
        if self.centered:
            a = self.grad_avg
            np.subtract(g, a, out=tmp)
            tmp *= 1 - self.rho
            a += tmp
            np.multiply(a, a, out=den)
            np.subtract(s, den, out=den)
            np.maximum(den, 0, out=den)
            np.sqrt(den, out=den)
        else:
            np.sqrt(s, out=den)
        den += self.epsilon
        np.divide(g, den, out=tmp)
        if self.momentum > 0:
            b = self.momentum_buffer
            b *= self.momentum
            b += tmp
            np.multiply(b, -lr, out=tmp)
        else:
            tmp *= -lr
        theta += tmp
