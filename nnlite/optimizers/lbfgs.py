"""Limited-memory BFGS on the whole objective, through scipy."""

from __future__ import annotations

import numpy as np
import scipy.optimize

from .base import Optimizer, _check_real

__all__ = ["LBFGS"]


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
