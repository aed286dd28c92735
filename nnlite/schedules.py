"""Learning-rate schedules: objects mapping an optimizer's count to a rate.

Every stochastic optimizer (:class:`~nnlite.SGD`, :class:`~nnlite.Adam`,
:class:`~nnlite.optimizers.AdamW`, ...) takes ``learning_rate=`` a float or one
of these.  A schedule maps the number of updates the optimizer has taken
*before* the current one (``0, 1, 2, ...``, as in Keras and optax) to that
update's base rate, with one exception kept for scikit-learn's sake:
:class:`InvScaling` is evaluated at the end of every epoch on the number of
samples seen so far (its ``counts`` attribute is ``"samples"``).

These names are not exported at ``nnlite``'s top level (``nnlite.Constant`` is
the initialiser): import them from ``nnlite.schedules``.
"""

from __future__ import annotations

import math

from ._validation import check_int, check_real

__all__ = ["Schedule", "Constant", "InvScaling", "ExponentialDecay", "StepDecay",
           "CosineDecay"]


class Schedule:
    """Base class of the schedules: ``schedule(count) -> rate``.

    Subclasses implement ``__call__`` for ``count`` an int ``>= 0``, returning
    a positive Python float.

    Attributes
    ----------
    counts : {'updates', 'samples'}
        ``'updates'``: the optimizer evaluates the schedule before every update
        on the number of updates already taken.  ``'samples'``: it starts at
        ``schedule(0)`` and is re-evaluated after every epoch on the number of
        training samples seen (scikit-learn's timing for ``invscaling``).
    """

    counts = "updates"

    def __call__(self, count: int) -> float:
        raise NotImplementedError

    def _params(self):
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other):
        return type(other) is type(self) and other._params() == self._params()

    def __hash__(self):
        return hash((type(self).__name__, tuple(self._params().items())))


def _rate(value, owner, name="initial_rate"):
    return check_real(value, owner, name, low=0, low_open=True)


class Constant(Schedule):
    """The same rate for every update.

    Parameters
    ----------
    rate : float > 0

    Examples
    --------
    >>> Constant(0.1)(1000)
    0.1
    """

    def __init__(self, rate: float):
        self.rate = _rate(rate, "Constant", "rate")

    def _params(self):
        return {"rate": self.rate}

    def __call__(self, count):
        return self.rate


class InvScaling(Schedule):
    """scikit-learn's ``'invscaling'``: ``initial_rate / (t + 1) ** power_t``.

    ``t`` is the number of training samples seen, and the rate changes only at
    the end of an epoch (``counts = 'samples'``): the first epoch runs at
    ``initial_rate``.  This is exactly ``SGD(schedule='invscaling')``, usable by
    every stochastic optimizer.

    Parameters
    ----------
    initial_rate : float > 0
    power_t : float >= 0, default=0.5

    Examples
    --------
    >>> InvScaling(0.5, power_t=0.5)(99)
    0.05
    """

    counts = "samples"

    def __init__(self, initial_rate: float, power_t: float = 0.5):
        self.initial_rate = _rate(initial_rate, "InvScaling")
        self.power_t = check_real(power_t, "InvScaling", "power_t", low=0)

    def _params(self):
        return {"initial_rate": self.initial_rate, "power_t": self.power_t}

    def __call__(self, count):
        return self.initial_rate / (count + 1) ** self.power_t


class ExponentialDecay(Schedule):
    """``initial_rate * decay_rate ** (t / decay_steps)`` (Keras's and optax's).

    Parameters
    ----------
    initial_rate : float > 0
    decay_rate : float in (0, 1]
        Factor applied every ``decay_steps`` updates.
    decay_steps : int >= 1
    staircase : bool, default=False
        Use ``t // decay_steps`` (a step function) instead of ``t / decay_steps``.

    Examples
    --------
    >>> ExponentialDecay(1.0, decay_rate=0.5, decay_steps=10)(20)
    0.25
    """

    def __init__(self, initial_rate: float, decay_rate: float, decay_steps: int,
                 staircase: bool = False):
        self.initial_rate = _rate(initial_rate, "ExponentialDecay")
        self.decay_rate = check_real(decay_rate, "ExponentialDecay", "decay_rate", low=0,
                                     low_open=True)
        if self.decay_rate > 1:
            raise ValueError(f"ExponentialDecay: decay_rate must be in (0, 1]; got {decay_rate!r}.")
        self.decay_steps = check_int(decay_steps, "ExponentialDecay", "decay_steps")
        self.staircase = bool(staircase)

    def _params(self):
        return {"initial_rate": self.initial_rate, "decay_rate": self.decay_rate,
                "decay_steps": self.decay_steps, "staircase": self.staircase}

    def __call__(self, count):
        p = count // self.decay_steps if self.staircase else count / self.decay_steps
        return self.initial_rate * self.decay_rate ** p


class StepDecay(Schedule):
    """``initial_rate * factor ** (t // step_size)``: times ``factor`` every ``step_size`` updates.

    PyTorch's ``StepLR``, counted in updates.

    Parameters
    ----------
    initial_rate : float > 0
    step_size : int >= 1
    factor : float in (0, 1], default=0.1

    Examples
    --------
    >>> s = StepDecay(1.0, step_size=100, factor=0.5)
    >>> s(99), s(100), s(250)
    (1.0, 0.5, 0.25)
    """

    def __init__(self, initial_rate: float, step_size: int, factor: float = 0.1):
        self.initial_rate = _rate(initial_rate, "StepDecay")
        self.step_size = check_int(step_size, "StepDecay", "step_size")
        self.factor = check_real(factor, "StepDecay", "factor", low=0, low_open=True)
        if self.factor > 1:
            raise ValueError(f"StepDecay: factor must be in (0, 1]; got {factor!r}.")

    def _params(self):
        return {"initial_rate": self.initial_rate, "step_size": self.step_size,
                "factor": self.factor}

    def __call__(self, count):
        return self.initial_rate * self.factor ** (count // self.step_size)


class CosineDecay(Schedule):
    """Cosine decay from ``initial_rate`` to ``final_rate``, after an optional linear warm-up.

    With ``w = warmup_steps`` and ``s = min(t - w, decay_steps)``::

        t < w:   warmup_start + (initial_rate - warmup_start) * t / w
        t >= w:  final_rate + (initial_rate - final_rate) * (1 + cos(pi s / decay_steps)) / 2

    so the warm-up ends at ``initial_rate`` and the rate stays at ``final_rate``
    once ``w + decay_steps`` updates have been taken.  (optax's
    ``warmup_cosine_decay_schedule`` counts the warm-up inside its
    ``decay_steps``; here ``decay_steps`` is the cosine part alone.)

    Parameters
    ----------
    initial_rate : float > 0
        The rate at the start of the decay (the peak, with a warm-up).
    decay_steps : int >= 1
    final_rate : float in [0, initial_rate], default=0.0
    warmup_steps : int >= 0, default=0
    warmup_start : float in [0, initial_rate], default=0.0
        The rate of the first update when ``warmup_steps > 0``.

    Examples
    --------
    >>> s = CosineDecay(1.0, decay_steps=10, warmup_steps=5)
    >>> s(0), s(1), s(5), s(10), s(15), s(99)
    (0.0, 0.2, 1.0, 0.5, 0.0, 0.0)
    """

    def __init__(self, initial_rate: float, decay_steps: int, final_rate: float = 0.0,
                 warmup_steps: int = 0, warmup_start: float = 0.0):
        self.initial_rate = _rate(initial_rate, "CosineDecay")
        self.decay_steps = check_int(decay_steps, "CosineDecay", "decay_steps")
        self.final_rate = self._below_initial(final_rate, "final_rate")
        self.warmup_steps = check_int(warmup_steps, "CosineDecay", "warmup_steps", low=0)
        self.warmup_start = self._below_initial(warmup_start, "warmup_start")

    def _below_initial(self, value, name):
        value = check_real(value, "CosineDecay", name, low=0)
        if value > self.initial_rate:
            raise ValueError(f"CosineDecay: {name} must be in [0, initial_rate] = "
                             f"[0, {self.initial_rate!r}]; got {value!r}.")
        return value

    def _params(self):
        return {"initial_rate": self.initial_rate, "decay_steps": self.decay_steps,
                "final_rate": self.final_rate, "warmup_steps": self.warmup_steps,
                "warmup_start": self.warmup_start}

    def __call__(self, count):
        w = self.warmup_steps
        if count < w:
            return self.warmup_start + (self.initial_rate - self.warmup_start) * count / w
        s = min(count - w, self.decay_steps)
        cosine = 0.5 * (1.0 + math.cos(math.pi * s / self.decay_steps))
        return self.final_rate + (self.initial_rate - self.final_rate) * cosine
