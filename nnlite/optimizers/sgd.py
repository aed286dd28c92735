"""Stochastic gradient descent with momentum, Nesterov's momentum and scikit-learn's schedules."""

from __future__ import annotations

import numpy as np

from .. import _accel
from ..schedules import InvScaling, Schedule
from .base import _SLICE, _check_real, _slices, _Stochastic

__all__ = ["SGD"]


class SGD(_Stochastic):
    """Stochastic gradient descent with momentum, Nesterov's momentum and schedules.

    Per step, with velocity ``v`` starting at zero::

        v <- momentum * v - lr * g
        theta += v                            (plain momentum)
        theta += momentum * v - lr * g        (Nesterov)

    Parameters
    ----------
    learning_rate : float or Schedule, default=0.01
        Initial step size ``lr``, or a schedule from :mod:`nnlite.schedules`.
    momentum : float in [0, 1], default=0.9
    nesterov : bool, default=True
    schedule : {'constant', 'invscaling', 'adaptive'}, default='constant'
        ``'invscaling'`` sets ``lr = learning_rate / (t + 1) ** power_t`` after each
        epoch, ``t`` being the number of samples seen (the same as
        ``learning_rate=InvScaling(learning_rate, power_t)``); ``'adaptive'``
        divides ``lr`` by 5 each time the loss stops improving, and stops once
        ``lr <= 1e-6``.  Both need a float ``learning_rate``.
    power_t : float, default=0.5
    clip_norm : float > 0, optional
        Rescale the gradient to this Euclidean norm (over the whole flat
        vector) when it is longer.
    clip_value : float > 0, optional
        Clip every gradient element to ``[-clip_value, clip_value]`` (after ``clip_norm``).

    Attributes
    ----------
    lr : float
        The current step size (the same as ``base_lr``).
    base_lr : float
        The current base rate (see :ref:`the optimizers page <base-lr>`).
    t : int
        Updates taken since :meth:`init`.
    velocity : ndarray of shape (n_params,)

    Examples
    --------
    >>> import numpy as np
    >>> opt = SGD(learning_rate=0.1, momentum=0.0).init(np.zeros(2))
    >>> theta = np.ones(2); opt.step(theta, np.array([1.0, -1.0])); theta
    array([0.9, 1.1])
    """

    def __init__(self, learning_rate=0.01, momentum=0.9, nesterov=True,
                 schedule="constant", power_t=0.5, *, clip_norm=None, clip_value=None):
        super().__init__(learning_rate, clip_norm, clip_value)
        self.momentum = _check_real(momentum, "momentum", "SGD", 0, 1)
        self.nesterov = bool(nesterov)
        if schedule not in ("constant", "invscaling", "adaptive"):
            raise ValueError(
                "SGD: schedule must be 'constant', 'invscaling' or 'adaptive'; "
                f"got {schedule!r}."
            )
        if schedule != "constant" and isinstance(self.learning_rate, Schedule):
            raise ValueError(
                f"SGD: schedule={schedule!r} needs a float learning_rate; got the schedule "
                f"{self.learning_rate!r}. Pass one or the other."
            )
        self.schedule = schedule
        self.power_t = _check_real(power_t, "power_t", "SGD", 0)
        if schedule == "invscaling":  # scikit-learn's schedule is this one
            self._schedule = InvScaling(self.learning_rate, self.power_t)
        self.velocity = None

    @property
    def lr(self):
        return self.base_lr

    @lr.setter
    def lr(self, value):
        self.base_lr = value

    def _rule_params(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov,
                "schedule": self.schedule, "power_t": self.power_t}

    def _init_state(self, theta):
        self.velocity = np.zeros_like(theta)
        self._tmp = np.empty(min(theta.size, _SLICE), theta.dtype)
        self._tmp2 = np.empty_like(self._tmp)
        self._slices = _slices(theta.size)

    def _update(self, theta, grad, lr):
        mu = self.momentum
        if _accel.sgd(theta, grad, self.velocity, lr, mu, self.nesterov):
            return
        for a, b in self._slices:
            v, lr_g, g = self.velocity[a:b], self._tmp[:b - a], grad[a:b]
            np.multiply(g, lr, out=lr_g)
            v *= mu
            v -= lr_g                               # v = mu v - lr g
            if self.nesterov:
                upd = self._tmp2[:b - a]
                np.multiply(v, mu, out=upd)
                upd -= lr_g                         # mu v_new - lr g
                theta[a:b] += upd
            else:
                theta[a:b] += v

    def trigger_stopping(self, msg, verbose):
        if self.schedule != "adaptive":
            return super().trigger_stopping(msg, verbose)
        if self.lr <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.lr /= 5.0
        if verbose:
            print(f"{msg} Setting learning rate to {self.lr:f}")
        return False
