"""Optimizers, in order of increasing complexity: SGD, Adam, L-BFGS.

The stochastic optimizers work on the network's single flat parameter vector:
``init(theta)`` allocates their state once, ``step(theta, grad)`` updates
``theta`` in place with a few vectorised operations.  The element-wise
arithmetic is scikit-learn's, operation for operation, so that the presets
reproduce its weights bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.optimize

from . import _accel

__all__ = ["Optimizer", "SGD", "Adam", "LBFGS"]

#: The stochastic optimizers update the flat vector slice by slice: their work arrays
#: stay small and every slice's arrays stay in cache between operations.
_SLICE = 16384


def _slices(n):
    return [(a, min(a + _SLICE, n)) for a in range(0, n, _SLICE)]


class Optimizer:
    """Base class of the optimizers.

    A stochastic optimizer implements :meth:`init` and :meth:`step`; the
    training loop calls :meth:`iteration_ends` after every epoch and
    :meth:`trigger_stopping` when the loss stopped improving.
    """

    #: Whether the optimizer takes minibatch steps (False: full-batch L-BFGS).
    stochastic = True

    def init(self, theta: np.ndarray) -> Optimizer:
        """Allocate the state for a parameter vector like ``theta``; returns self."""
        return self

    def step(self, theta: np.ndarray, grad: np.ndarray) -> None:
        """Update ``theta`` in place from ``grad`` (same shape)."""
        raise NotImplementedError

    def iteration_ends(self, time_step: int) -> None:
        """Epoch-end hook; ``time_step`` counts the samples seen so far."""

    def trigger_stopping(self, msg: str, verbose: bool) -> bool:
        """The loss stopped improving: return True to stop training."""
        if verbose:
            print(msg + " Stopping.")
        return True

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({args})"

    def _params(self):
        return {}


def _check_real(value, name, owner, low=None, high=None, low_open=False, high_open=False):
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be a real number; got {value!r}.")
    value = float(value)
    ok = np.isfinite(value)
    if ok:
        if low is not None:
            ok = value > low if low_open else value >= low
        if ok and high is not None:
            ok = value < high if high_open else value <= high
    if not ok:
        lo = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
        hi = "" if high is None else f"{high:g}" + (")" if high_open else "]")
        rng = f" in {lo or '(-inf'}, {hi or 'inf)'}"
        raise ValueError(f"{owner}: {name} must be a real number{rng}; got {value!r}.")
    return value


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, Nesterov's momentum and schedules.

    Per step, with velocity ``v`` starting at zero::

        v <- momentum * v - lr * g
        theta += v                            (plain momentum)
        theta += momentum * v - lr * g        (Nesterov)

    Parameters
    ----------
    learning_rate : float, default=0.01
        Initial step size ``lr``.
    momentum : float in [0, 1], default=0.9
    nesterov : bool, default=True
    schedule : {'constant', 'invscaling', 'adaptive'}, default='constant'
        ``'invscaling'`` sets ``lr = learning_rate / (t + 1) ** power_t`` after each
        epoch, ``t`` being the number of samples seen; ``'adaptive'`` divides
        ``lr`` by 5 each time the loss stops improving, and stops once
        ``lr <= 1e-6``.
    power_t : float, default=0.5

    Attributes
    ----------
    lr : float
        The current step size.
    velocity : ndarray of shape (n_params,)

    Examples
    --------
    >>> import numpy as np
    >>> opt = SGD(learning_rate=0.1, momentum=0.0).init(np.zeros(2))
    >>> theta = np.ones(2); opt.step(theta, np.array([1.0, -1.0])); theta
    array([0.9, 1.1])
    """

    def __init__(self, learning_rate=0.01, momentum=0.9, nesterov=True,
                 schedule="constant", power_t=0.5):
        self.learning_rate = _check_real(learning_rate, "learning_rate", "SGD", 0, low_open=True)
        self.momentum = _check_real(momentum, "momentum", "SGD", 0, 1)
        self.nesterov = bool(nesterov)
        if schedule not in ("constant", "invscaling", "adaptive"):
            raise ValueError(
                "SGD: schedule must be 'constant', 'invscaling' or 'adaptive'; "
                f"got {schedule!r}."
            )
        self.schedule = schedule
        self.power_t = _check_real(power_t, "power_t", "SGD", 0)
        self.lr = self.learning_rate
        self.velocity = None

    def _params(self):
        return {"learning_rate": self.learning_rate, "momentum": self.momentum,
                "nesterov": self.nesterov, "schedule": self.schedule, "power_t": self.power_t}

    def init(self, theta):
        self.velocity = np.zeros_like(theta)
        self._tmp = np.empty(min(theta.size, _SLICE), theta.dtype)
        self._tmp2 = np.empty_like(self._tmp)
        self._slices = _slices(theta.size)
        self.lr = self.learning_rate
        return self

    def step(self, theta, grad):
        mu, lr = self.momentum, self.lr
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

    def iteration_ends(self, time_step):
        if self.schedule == "invscaling":
            self.lr = float(self.learning_rate) / (time_step + 1) ** self.power_t

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


class Adam(Optimizer):
    """Adam (Kingma & Ba), with the bias correction folded into the step size.

    Per step ``t = 1, 2, ...``, with moments ``m``, ``v`` starting at zero::

        m <- beta_1 m + (1 - beta_1) g
        v <- beta_2 v + (1 - beta_2) g**2
        lr_t = learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        theta -= lr_t * m / (sqrt(v) + epsilon)

    Parameters
    ----------
    learning_rate : float, default=0.001
    beta_1 : float in [0, 1), default=0.9
    beta_2 : float in [0, 1), default=0.999
    epsilon : float, default=1e-8

    Attributes
    ----------
    t : int
        Steps taken.
    m, v : ndarray of shape (n_params,)
        First and second moment estimates.
    lr : float
        The last step size ``lr_t``.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.learning_rate = _check_real(learning_rate, "learning_rate", "Adam", 0, low_open=True)
        self.beta_1 = _check_real(beta_1, "beta_1", "Adam", 0, 1, high_open=True)
        self.beta_2 = _check_real(beta_2, "beta_2", "Adam", 0, 1, high_open=True)
        self.epsilon = _check_real(epsilon, "epsilon", "Adam", 0, low_open=True)
        self.t = 0
        self.lr = self.learning_rate
        self.m = self.v = None

    def _params(self):
        return {"learning_rate": self.learning_rate, "beta_1": self.beta_1,
                "beta_2": self.beta_2, "epsilon": self.epsilon}

    def init(self, theta):
        self.t = 0
        self.m = np.zeros_like(theta)
        self.v = np.zeros_like(theta)
        self._tmp = np.empty(min(theta.size, _SLICE), theta.dtype)
        # lr_t is a float64 scalar, so (as in scikit-learn) the step is computed in
        # float64 and rounded once when added to float32 parameters
        self._tmp2 = np.empty(self._tmp.size, np.result_type(theta.dtype, np.float64))
        self._slices = _slices(theta.size)
        return self

    def step(self, theta, grad):
        b1, b2, eps = self.beta_1, self.beta_2, self.epsilon
        self.t += 1
        # math.sqrt rounds as np.sqrt does; lr stays a float64 scalar as in scikit-learn
        self.lr = lr = np.float64(self.learning_rate * math.sqrt(1 - b2**self.t)
                                  / (1 - b1**self.t))
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


class LBFGS(Optimizer):
    """Limited-memory BFGS through :func:`scipy.optimize.minimize` (method ``L-BFGS-B``).

    Full-batch: the training loop hands it the whole objective at once.

    Parameters
    ----------
    maxiter : int, default=200
        Maximum number of iterations.
    maxfun : int, default=15000
        Maximum number of objective evaluations.
    gtol : float, default=1e-4
        Stop when the largest projected gradient component is below ``gtol``.
    maxcor : int, default=10
        Number of correction pairs kept.

    Attributes
    ----------
    result_ : scipy.optimize.OptimizeResult
        The result of the last :meth:`minimize`.
    """

    stochastic = False

    def __init__(self, maxiter=200, maxfun=15000, gtol=1e-4, maxcor=10):
        self.maxiter = _check_int(maxiter, "maxiter")
        self.maxfun = _check_int(maxfun, "maxfun")
        self.gtol = _check_real(gtol, "gtol", "LBFGS", 0)
        self.maxcor = _check_int(maxcor, "maxcor")

    def _params(self):
        return {"maxiter": self.maxiter, "maxfun": self.maxfun, "gtol": self.gtol,
                "maxcor": self.maxcor}

    def step(self, theta, grad):
        raise TypeError("LBFGS works on the whole objective: call minimize(), not step().")

    def minimize(self, fun, theta0):
        """Minimise ``fun(theta) -> (value, grad)`` from ``theta0``.

        ``fun`` must return a gradient scipy may keep (a copy, not a reused buffer).

        Returns
        -------
        scipy.optimize.OptimizeResult
        """
        self.result_ = scipy.optimize.minimize(
            fun, theta0, method="L-BFGS-B", jac=True,
            options={"maxfun": self.maxfun, "maxiter": self.maxiter, "gtol": self.gtol,
                     "maxcor": self.maxcor},
        )
        return self.result_


def _check_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"LBFGS: {name} must be an int >= 1; got {value!r}.")
    return int(value)
