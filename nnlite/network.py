"""Kept so that ``from nnlite.network import Sequential`` goes on working.

The models live in :mod:`nnlite.models`.
"""

from .models.sequential import Sequential

__all__ = ["Sequential"]
