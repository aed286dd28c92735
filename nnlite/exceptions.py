"""Warning and error classes.

nnlite never imports scikit-learn, but when scikit-learn is already loaded the
classes raised are subclasses of *both* nnlite's and scikit-learn's class of
the same name, so ``pytest.warns(sklearn.exceptions.ConvergenceWarning)`` and
``warnings.simplefilter("ignore", nnlite.exceptions.ConvergenceWarning)`` both
work.
"""

from __future__ import annotations

import sys

__all__ = ["ConvergenceWarning", "DataConversionWarning", "NotFittedError"]


class ConvergenceWarning(UserWarning):
    """Training stopped at its iteration limit before the stopping criterion was met."""


class DataConversionWarning(UserWarning):
    """Input data was converted (for example a column-vector ``y`` was raveled)."""


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted model was called before ``fit``."""


_combined = {}


def _resolve(cls):
    """``cls``, or a subclass of ``cls`` and scikit-learn's twin when scikit-learn is loaded."""
    if "sklearn" not in sys.modules:
        return cls
    if cls not in _combined:
        try:
            from sklearn import exceptions as sk
            twin = getattr(sk, cls.__name__)
        except (ImportError, AttributeError):  # pragma: no cover - partial installs
            return cls
        _combined[cls] = type(cls.__name__, (cls, twin), {"__module__": cls.__module__})
    return _combined[cls]


def warn(cls, message: str, stacklevel: int = 3) -> None:
    """Emit ``message`` as ``cls`` (resolved as described in the module docstring)."""
    import warnings

    warnings.warn(message, _resolve(cls), stacklevel=stacklevel)


def error(cls, message: str) -> Exception:
    """An instance of ``cls`` (resolved as described in the module docstring)."""
    return _resolve(cls)(message)
