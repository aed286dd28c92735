"""The presets' ``_optimizer``: a core optimizer seen under scikit-learn's attribute names.

Code written for scikit-learn reads ``est._optimizer.learning_rate`` to watch the
current step size (and sometimes sets it between ``partial_fit`` calls).  In
scikit-learn that name is the *current* rate and ``learning_rate_init`` the
initial one; the core :class:`~nnlite.SGD` and :class:`~nnlite.Adam` call them
``lr`` and ``learning_rate``.  This view maps the names and passes everything
else (``momentum``, ``beta_1``, ``t``, ...) through to the core optimizer, which
the training loop uses directly.
"""

from __future__ import annotations

from .optimizers import Optimizer

__all__ = ["SklearnOptimizerView", "STOCHASTIC_SOLVERS", "is_stochastic"]

#: The presets' minibatch solvers by name (the first two are scikit-learn's).
STOCHASTIC_SOLVERS = ("sgd", "adam", "rmsprop", "adamw", "nadam")


def is_stochastic(solver) -> bool:
    """Whether a preset's ``solver`` (a name or an Optimizer) trains on minibatches."""
    if isinstance(solver, Optimizer):
        return bool(solver.stochastic)
    return solver in STOCHASTIC_SOLVERS


class SklearnOptimizerView:
    """scikit-learn's names for a core SGD or Adam; reads and writes reach the core.

    Attributes
    ----------
    core : SGD or Adam
        The optimizer the training loop steps.
    learning_rate : float
        The current step size: SGD's rate after its schedule, Adam's last
        bias-corrected ``lr_t`` (its initial rate before the first step); for
        nnlite's other solvers ('rmsprop', 'adamw', 'nadam', an instance), the
        scheduled base rate ``base_lr``.  Setting it changes SGD's next steps
        (and the others'); Adam recomputes it every step.
    learning_rate_init : float
        The initial step size.
    lr_schedule : str
        SGD's schedule: 'constant', 'invscaling' or 'adaptive'.
    """

    _NAMES = {"learning_rate": "lr", "learning_rate_init": "learning_rate",
              "lr_schedule": "schedule"}

    def __init__(self, core):
        object.__setattr__(self, "core", core)

    def __getattr__(self, name):
        if name == "core":  # not set yet (while unpickling): no recursion
            raise AttributeError(name)
        core = self.core
        if name == "learning_rate" and not hasattr(core, "lr"):
            return core.base_lr  # nnlite's other solvers: their current (scheduled) rate
        return getattr(core, self._NAMES.get(name, name))

    def __setattr__(self, name, value):
        if name == "learning_rate_init" or name == "learning_rate":
            value = float(value)
        if name == "learning_rate" and not hasattr(self.core, "lr"):
            name = "base_lr"
        setattr(self.core, self._NAMES.get(name, name), value)

    def __repr__(self):
        return f"{type(self).__name__}({self.core!r})"
