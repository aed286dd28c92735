"""Recognising data that belongs to an optional back end, without importing it.

The core hands dask arrays to :mod:`nnlite.dask`; it must not import dask to
tell them apart (``import nnlite`` stays free of optional packages), so the
test reads the module name of the object's type.
"""

from __future__ import annotations

__all__ = ["is_dask", "any_dask"]


def is_dask(a) -> bool:
    """Whether ``a`` is a dask collection (array, dataframe, ...), judged by its type's module."""
    module = type(a).__module__ or ""
    return module == "dask" or module.startswith("dask.")


def any_dask(*arrays) -> bool:
    """Whether any of ``arrays`` is a dask collection."""
    return any(is_dask(a) for a in arrays)
