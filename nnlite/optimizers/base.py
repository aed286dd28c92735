"""The optimizer contract, and what every stochastic optimizer shares.

A stochastic optimizer's learning rate is a float or a schedule
(:mod:`nnlite.schedules`); before every update it may clip the gradient
(``clip_norm`` over the whole flat vector, then ``clip_value`` per element),
and it counts its updates.  Each rule (SGD, Adam, ...) then only writes
``_init_state(theta)`` and ``_update(theta, grad, lr)``.
"""

from __future__ import annotations

import numpy as np

from ..schedules import Schedule

__all__ = ["Optimizer"]

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


def _check_learning_rate(value, owner):
    if isinstance(value, Schedule):
        return value
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
        raise TypeError(f"{owner}: learning_rate must be a real number > 0 or a schedule from "
                        f"nnlite.schedules; got {value!r}.")
    return _check_real(value, "learning_rate", owner, 0, low_open=True)


class _Stochastic(Optimizer):
    """The minibatch optimizers: a rate (float or schedule), clipping and an update count.

    Attributes
    ----------
    base_lr : float
        The current base learning rate: the scheduled rate before any
        per-parameter scaling (Adam's bias correction, RMSProp's division by
        the root mean square).  With a float ``learning_rate`` it stays that
        float unless changed: assigning ``base_lr`` sets the rate of the
        updates that follow.  With a schedule, the schedule sets it before
        every update (or after every epoch, for ``InvScaling``).
    t : int
        Updates taken since :meth:`init`.
    """

    def __init__(self, learning_rate, clip_norm=None, clip_value=None):
        owner = type(self).__name__
        self.learning_rate = _check_learning_rate(learning_rate, owner)
        self.clip_norm = (None if clip_norm is None
                          else _check_real(clip_norm, "clip_norm", owner, 0, low_open=True))
        self.clip_value = (None if clip_value is None
                           else _check_real(clip_value, "clip_value", owner, 0, low_open=True))
        self._schedule = self.learning_rate if isinstance(self.learning_rate, Schedule) else None
        self.t = 0
        self.base_lr = self._initial_rate()

    def _initial_rate(self):
        return self.learning_rate if self._schedule is None else self._schedule(0)

    def _params(self):
        clips = {k: getattr(self, k) for k in ("clip_norm", "clip_value")
                 if getattr(self, k) is not None}
        return {"learning_rate": self.learning_rate, **self._rule_params(), **clips}

    def _rule_params(self):
        return {}

    def init(self, theta):
        self.t = 0
        self.base_lr = self._initial_rate()
        self._gbuf = None
        self._init_state(theta)
        return self

    def step(self, theta, grad):
        """Update ``theta`` in place from ``grad`` (same shape; ``grad`` is not modified)."""
        s = self._schedule
        if s is not None and s.counts == "updates":
            self.base_lr = s(self.t)
        if self.clip_norm is not None or self.clip_value is not None:
            grad = self._clip(grad)
        self.t += 1
        self._update(theta, grad, self.base_lr)

    def iteration_ends(self, time_step):
        s = self._schedule
        if s is not None and s.counts == "samples":
            self.base_lr = s(time_step)

    def _clip(self, grad):
        """A copy of ``grad``, scaled to norm ``clip_norm`` if longer, then clipped per element."""
        g = getattr(self, "_gbuf", None)
        if g is None or g.shape != grad.shape or g.dtype != grad.dtype:
            g = self._gbuf = np.empty_like(grad)
        np.copyto(g, grad)
        if self.clip_norm is not None:
            norm = float(np.linalg.norm(g.ravel()))
            if norm > self.clip_norm:
                g *= self.clip_norm / norm
        if self.clip_value is not None:
            np.clip(g, -self.clip_value, self.clip_value, out=g)
        return g

    def _init_state(self, theta):
        raise NotImplementedError

    def _update(self, theta, grad, lr):
        raise NotImplementedError
