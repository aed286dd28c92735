"""Adam and its relatives: Adam (scikit-learn's form), AdamW and Nadam (PyTorch's forms).

:class:`Adam` folds the bias correction into the step size, as scikit-learn
does, so the presets reproduce scikit-learn's weights bit for bit.
:class:`AdamW` and :class:`Nadam` are written as PyTorch writes them
(``torch.optim.AdamW``, ``torch.optim.NAdam``), so their numbers can be
compared with PyTorch's: there epsilon is added to the bias-corrected root
mean square, ``sqrt(v / (1 - beta_2**t)) + eps``, whereas scikit-learn adds it
to ``sqrt(v)``.  With ``weight_decay=0`` AdamW therefore differs from Adam in
epsilon's place only.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _accel
from .base import _SLICE, _check_real, _slices, _Stochastic

__all__ = ["Adam", "AdamW", "Nadam"]


def _check_betas(self, beta_1, beta_2, epsilon):
    owner = type(self).__name__
    self.beta_1 = _check_real(beta_1, "beta_1", owner, 0, 1, high_open=True)
    self.beta_2 = _check_real(beta_2, "beta_2", owner, 0, 1, high_open=True)
    self.epsilon = _check_real(epsilon, "epsilon", owner, 0, low_open=True)


class Adam(_Stochastic):
    """Adam (Kingma & Ba), with the bias correction folded into the step size.

    Per step ``t = 1, 2, ...``, with moments ``m``, ``v`` starting at zero::

        m <- beta_1 m + (1 - beta_1) g
        v <- beta_2 v + (1 - beta_2) g**2
        lr_t = learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        theta -= lr_t * m / (sqrt(v) + epsilon)

    Parameters
    ----------
    learning_rate : float or Schedule, default=0.001
        With a schedule, ``learning_rate`` in ``lr_t`` is the scheduled rate.
    beta_1 : float in [0, 1), default=0.9
    beta_2 : float in [0, 1), default=0.999
    epsilon : float, default=1e-8
    clip_norm, clip_value : float > 0, optional
        Gradient clipping, as for :class:`~nnlite.SGD`.

    Attributes
    ----------
    t : int
        Steps taken.
    m, v : ndarray of shape (n_params,)
        First and second moment estimates.
    lr : float
        The last step size ``lr_t``.
    base_lr : float
        The current base rate, before the bias correction.

    Examples
    --------
    >>> import numpy as np
    >>> theta = np.zeros(2)
    >>> Adam(learning_rate=0.1).init(theta).step(theta, np.array([2.0, -4.0])); theta.round(6)
    array([-0.1,  0.1])
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, *,
                 clip_norm=None, clip_value=None):
        super().__init__(learning_rate, clip_norm, clip_value)
        _check_betas(self, beta_1, beta_2, epsilon)
        self.lr = self.base_lr
        self.m = self.v = None

    def _rule_params(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}

    def _init_state(self, theta):
        self.m = np.zeros_like(theta)
        self.v = np.zeros_like(theta)
        self._tmp = np.empty(min(theta.size, _SLICE), theta.dtype)
        # lr_t is a float64 scalar, so (as in scikit-learn) the step is computed in
        # float64 and rounded once when added to float32 parameters
        self._tmp2 = np.empty(self._tmp.size, np.result_type(theta.dtype, np.float64))
        self._slices = _slices(theta.size)

    def _update(self, theta, grad, base_lr):
        b1, b2, eps = self.beta_1, self.beta_2, self.epsilon
        # math.sqrt rounds as np.sqrt does; lr stays a float64 scalar as in scikit-learn
        self.lr = lr = np.float64(base_lr * math.sqrt(1 - b2**self.t) / (1 - b1**self.t))
        if _accel.adam(theta, grad, self.m, self.v, lr, b1, b2, eps):
            return
        for a, b in self._slices:
            m, v, g = self.m[a:b], self.v[a:b], grad[a:b]
            tmp, upd = self._tmp[:b - a], self._tmp2[:b - a]
            m *= b1
            np.multiply(g, 1 - b1, out=tmp)
            m += tmp
            v *= b2
            np.multiply(g, g, out=tmp)
            tmp *= 1 - b2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp += eps
            np.multiply(m, -lr, out=upd)
            upd /= tmp
            theta[a:b] += upd


class _TorchMoments(_Stochastic):
    """The moment updates of PyTorch's Adam family, shared by AdamW and Nadam."""

    def _init_state(self, theta):
        self.m = np.zeros_like(theta)
        self.v = np.zeros_like(theta)
        self._tmp = np.empty_like(theta)
        self._den = np.empty_like(theta)

    def _moments(self, g):
        """``m += (1 - beta_1) (g - m)`` (torch's lerp); ``v = beta_2 v + (1 - beta_2) g^2``."""
        m, v, tmp = self.m, self.v, self._tmp
        np.subtract(g, m, out=tmp)
        tmp *= 1 - self.beta_1
        m += tmp
        v *= self.beta_2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.beta_2
        v += tmp


class AdamW(_TorchMoments):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as ``torch.optim.AdamW``.

    Per step ``t = 1, 2, ...``, with the base rate ``lr`` (scheduled or not)::

        theta *= 1 - lr * weight_decay
        m <- beta_1 m + (1 - beta_1) g
        v <- beta_2 v + (1 - beta_2) g**2
        theta -= lr / (1 - beta_1**t) * m / (sqrt(v) / sqrt(1 - beta_2**t) + epsilon)

    The decay is scaled by the learning rate (PyTorch's convention) and applies
    to every parameter of the flat vector, biases included (PyTorch's default
    for one parameter group).

    Parameters
    ----------
    learning_rate : float or Schedule, default=0.001
    beta_1 : float in [0, 1), default=0.9
    beta_2 : float in [0, 1), default=0.999
    epsilon : float > 0, default=1e-8
    weight_decay : float >= 0, default=0.01
    clip_norm, clip_value : float > 0, optional
        Gradient clipping, as for :class:`~nnlite.SGD`.

    Attributes
    ----------
    t : int
    m, v : ndarray of shape (n_params,)
    base_lr : float
        The current base rate ``lr``.

    Examples
    --------
    >>> import numpy as np
    >>> theta = np.ones(2)
    >>> AdamW(learning_rate=0.1, weight_decay=0.5).init(theta).step(theta, np.zeros(2))
    >>> theta                                 # decay only: 1 - 0.1 * 0.5
    array([0.95, 0.95])
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 weight_decay=0.01, *, clip_norm=None, clip_value=None):
        super().__init__(learning_rate, clip_norm, clip_value)
        _check_betas(self, beta_1, beta_2, epsilon)
        self.weight_decay = _check_real(weight_decay, "weight_decay", "AdamW", 0)
        self.m = self.v = None

    def _rule_params(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "weight_decay": self.weight_decay}

    def _update(self, theta, grad, lr):
        t = self.t
        if self.weight_decay:
            theta *= 1 - lr * self.weight_decay
        self._moments(grad)
        den = self._den
        np.sqrt(self.v, out=den)
        den /= (1 - self.beta_2**t) ** 0.5
        den += self.epsilon
        np.divide(self.m, den, out=den)
        den *= -lr / (1 - self.beta_1**t)
        theta += den


class Nadam(_TorchMoments):
    """Adam with Nesterov momentum and momentum decay, as ``torch.optim.NAdam``.

    Per step ``t = 1, 2, ...``, with the base rate ``lr`` and
    ``mu_t = beta_1 (1 - 0.96 ** (t * momentum_decay) / 2)``::

        m <- beta_1 m + (1 - beta_1) g
        v <- beta_2 v + (1 - beta_2) g**2
        d = sqrt(v / (1 - beta_2**t)) + epsilon
        theta -= lr (1 - mu_t) / (1 - mu_1 ... mu_t) * g / d
        theta -= lr mu_{t+1} / (1 - mu_1 ... mu_{t+1}) * m / d

    Parameters
    ----------
    learning_rate : float or Schedule, default=0.002
    beta_1 : float in [0, 1), default=0.9
    beta_2 : float in [0, 1), default=0.999
    epsilon : float > 0, default=1e-8
    momentum_decay : float >= 0, default=0.004
    clip_norm, clip_value : float > 0, optional
        Gradient clipping, as for :class:`~nnlite.SGD`.

    Attributes
    ----------
    t : int
    m, v : ndarray of shape (n_params,)
    mu_product : float
        ``mu_1 ... mu_t``.
    base_lr : float
        The current base rate ``lr``.

    Examples
    --------
    >>> import numpy as np
    >>> theta = np.zeros(1)
    >>> Nadam(learning_rate=0.01).init(theta).step(theta, np.array([3.0])); theta.round(4)
    array([-0.0106])
    """

    def __init__(self, learning_rate=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 momentum_decay=0.004, *, clip_norm=None, clip_value=None):
        super().__init__(learning_rate, clip_norm, clip_value)
        _check_betas(self, beta_1, beta_2, epsilon)
        self.momentum_decay = _check_real(momentum_decay, "momentum_decay", "Nadam", 0)
        self.m = self.v = None
        self.mu_product = 1.0

    def _rule_params(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "momentum_decay": self.momentum_decay}

    def _init_state(self, theta):
        super()._init_state(theta)
        self.mu_product = 1.0

    def _mu(self, t):
        return self.beta_1 * (1.0 - 0.5 * 0.96 ** (t * self.momentum_decay))

    def _update(self, theta, grad, lr):
        t = self.t
        mu, mu_next = self._mu(t), self._mu(t + 1)
        self.mu_product *= mu
        self._moments(grad)
        den, tmp = self._den, self._tmp
        np.divide(self.v, 1 - self.beta_2**t, out=den)
        np.sqrt(den, out=den)
        den += self.epsilon
        np.divide(grad, den, out=tmp)
        tmp *= -lr * (1.0 - mu) / (1.0 - self.mu_product)
        theta += tmp
        np.divide(self.m, den, out=tmp)
        tmp *= -lr * mu_next / (1.0 - self.mu_product * mu_next)
        theta += tmp
