"""Adagrad, as ``torch.optim.Adagrad`` defines it."""

from __future__ import annotations

import numpy as np

from .base import _check_real, _Stochastic

__all__ = ["Adagrad"]


class Adagrad(_Stochastic):
    """Per-parameter rates shrinking with the sum of the squared gradients (Duchi et al.).

    Per step, with the base rate ``lr`` and ``s`` starting at
    ``initial_accumulator_value``::

        s <- s + g**2
        theta -= lr g / (sqrt(s) + epsilon)

    exactly ``torch.optim.Adagrad`` (epsilon outside the square root).  PyTorch's
    ``lr_decay`` is a schedule of the base rate here: pass ``learning_rate=`` a
    schedule from :mod:`nnlite.schedules`.

    Parameters
    ----------
    learning_rate : float or Schedule, default=0.01
    epsilon : float > 0, default=1e-10
    initial_accumulator_value : float >= 0, default=0.0
    clip_norm, clip_value : float > 0, optional
        Gradient clipping, as for :class:`~nnlite.SGD`.

    Attributes
    ----------
    t : int
    sum : ndarray of shape (n_params,)
        ``s``.
    base_lr : float
        The current base rate ``lr``.

    Examples
    --------
    >>> import numpy as np
    >>> theta = np.zeros(2)
    >>> opt = Adagrad(learning_rate=0.5).init(theta)
    >>> opt.step(theta, np.array([3.0, -0.25])); theta.round(12)
    array([-0.5,  0.5])
    """

    def __init__(self, learning_rate=0.01, epsilon=1e-10, initial_accumulator_value=0.0, *,
                 clip_norm=None, clip_value=None):
        super().__init__(learning_rate, clip_norm, clip_value)
        self.epsilon = _check_real(epsilon, "epsilon", "Adagrad", 0, low_open=True)
        self.initial_accumulator_value = _check_real(
            initial_accumulator_value, "initial_accumulator_value", "Adagrad", 0)
        self.sum = None

    def _rule_params(self):
        return {"epsilon": self.epsilon,
                "initial_accumulator_value": self.initial_accumulator_value}

    def _init_state(self, theta):
        self.sum = np.full_like(theta, self.initial_accumulator_value)
        self._tmp = np.empty_like(theta)

    def _update(self, theta, g, lr):
        s, tmp = self.sum, self._tmp
        np.multiply(g, g, out=tmp)
        s += tmp
        np.sqrt(s, out=tmp)
        tmp += self.epsilon
        np.divide(g, tmp, out=tmp)
        tmp *= -lr
        theta += tmp
