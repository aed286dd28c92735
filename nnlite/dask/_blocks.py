"""Dask arrays as aligned row blocks, and where and how their tasks run.

Every fit and prediction goes through :class:`Blocks`: ``X``, ``y`` and
``sample_weight`` as dask arrays with the same row chunks and whole rows in a
block (no column chunks), with known chunk sizes.  Values are checked inside the
block tasks (a NaN names its block), never by bringing data to the client.
"""

from __future__ import annotations

import contextlib
import copy
import threading

import dask
import dask.array as da
import numpy as np

from .. import _backends, _threads, _validation

__all__ = ["Blocks", "aligned", "as_dask", "active_client", "compute", "one_blas_thread",
           "thread_net"]


def active_client():
    """The active ``distributed.Client``, or None (dask's local scheduler then runs the tasks)."""
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:
        return None


def one_blas_thread():
    """BLAS on one thread, as on the workers, unless nnlite must leave it alone ('off').

    The local scheduler runs tasks in threads of this process: a block's bits
    depend on BLAS's thread count, so it is held at one here as on the workers.
    """
    if _threads.get_blas_threads() == "off":
        return contextlib.nullcontext()
    return _threads._limit(1)


def compute(*collections):
    """``dask.compute`` on the active client, or the local scheduler with BLAS on one thread."""
    with one_blas_thread():
        return dask.compute(*collections)


def as_dask(a, name, where, like=None):
    """``a`` as a dask array; numpy data is chunked along ``like``'s rows."""
    if a is None:
        return None
    if _backends.is_dask(a):
        if not hasattr(a, "chunks") or not hasattr(a, "ndim"):
            raise TypeError(
                f"{where}: {name} is a {type(a).__name__}; nnlite takes dask arrays. Convert a "
                "dask DataFrame with .to_dask_array(lengths=True).")
        return a
    a = np.asarray(a)
    if like is None or a.ndim == 0 or a.shape[0] != like.shape[0]:
        return da.from_array(a)  # a wrong length is reported by the caller
    chunks = (like.chunks[0],) + tuple((n,) for n in a.shape[1:])
    return da.from_array(a, chunks=chunks)


def _known_rows(a):
    if a is not None and any(np.isnan(c) for c in a.chunks[0]):
        return a.compute_chunk_sizes()  # one pass over the blocks, counting rows only
    return a


def _with_rows_of(a, X):
    if a is None or a.chunks[0] == X.chunks[0]:
        return a.rechunk({i: -1 for i in range(1, a.ndim)}) if a is not None else None
    return a.rechunk((X.chunks[0],) + tuple((n,) for n in a.shape[1:]))


class Blocks:
    """``X``, ``y`` and ``sample_weight`` as dask arrays chunked alike along the rows.

    Parameters
    ----------
    X : dask array or array-like of shape (n_samples, n_features)
    y : dask array or array-like of shape (n_samples,) or (n_samples, n_outputs), optional
    sample_weight : dask array or array-like of shape (n_samples,), optional
    where : str
        Name of the caller, starting every error message.

    Attributes
    ----------
    X, y, sample_weight : dask arrays (``y`` and ``sample_weight`` may be None)
    bounds : list of (int, int)
        First row and end row of every block.
    """

    def __init__(self, X, y=None, sample_weight=None, where="train"):
        X = as_dask(X, "X", where)
        if X.ndim != 2:
            raise ValueError(f"{where}: X must be 2-D (n_samples, n_features); got a dask "
                             f"array of dimension {X.ndim}.")
        if X.dtype.kind not in "biuf":
            raise TypeError(f"{where}: X holds values of dtype {X.dtype}; only real numbers "
                            "are allowed.")
        X = _known_rows(X)
        if X.shape[0] == 0:
            raise ValueError(f"{where}: X has 0 samples; at least one is required.")
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        X = X.rechunk({1: -1})  # whole rows in every block
        y = _known_rows(as_dask(y, "y", where, like=X))
        sample_weight = _known_rows(as_dask(sample_weight, "sample_weight", where, like=X))
        for name, a in (("y", y), ("sample_weight", sample_weight)):
            if a is not None and a.shape[0] != X.shape[0]:
                raise ValueError(
                    f"{where}: X has {X.shape[0]} rows but {name} has {a.shape[0]}; they "
                    "must have the same number of rows.")
        if y is not None and y.ndim not in (1, 2):
            raise ValueError(f"{where}: y must be 1-D or 2-D; got a dask array of dimension "
                             f"{y.ndim}.")
        if sample_weight is not None and sample_weight.ndim != 1:
            raise ValueError(f"{where}: sample_weight must be 1-D; got a dask array of "
                             f"dimension {sample_weight.ndim}.")
        self.where = where
        self.X, self.y = X, _with_rows_of(y, X)
        self.sample_weight = _with_rows_of(sample_weight, X)
        stops = np.cumsum(X.chunks[0]).tolist()
        self.bounds = list(zip([0] + stops[:-1], stops))

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    def persist(self):
        """Keep the blocks in the workers' memory (in this process without a client)."""
        arrays = [a for a in (self.X, self.y, self.sample_weight) if a is not None]
        with one_blas_thread():
            arrays = list(dask.persist(*arrays))
        self.X = arrays.pop(0)
        if self.y is not None:
            self.y = arrays.pop(0)
        if self.sample_weight is not None:
            self.sample_weight = arrays.pop(0)
        return self

    def delayed(self):
        """Per block: ``(index, (start, stop), X, y, w)`` with dask delayed parts."""
        xs = self.X.to_delayed().ravel()
        ys = [None] * len(xs) if self.y is None else self.y.to_delayed().ravel()
        ws = ([None] * len(xs) if self.sample_weight is None
              else self.sample_weight.to_delayed().ravel())
        return list(zip(range(len(xs)), self.bounds, xs, ys, ws))


def aligned(a):
    """``a`` C-contiguous and aligned to its item size (copied only if it is not).

    Arrays received over the network may start at any byte; numpy and BLAS take
    other code paths (other roundings) for misaligned data, so a block would
    give other bits depending on whether it had travelled.
    """
    if a is None or (a.flags.c_contiguous and a.flags.aligned):
        return a
    return np.array(a, order="C", copy=True)


def check_block(where, index, bounds, X, y=None, w=None):
    """Raise a ValueError naming the block if its values are not finite."""
    for name, a in (("X", X), ("y", y), ("sample_weight", w)):
        if a is not None and a.dtype.kind == "f" and not _validation._all_finite(a):
            raise ValueError(
                f"{where}: block {index} of {name} (rows {bounds[0]} to {bounds[1] - 1}) "
                "contains NaN or infinity; remove or impute them.")


_local = threading.local()


def thread_net(net, token):
    """This thread's own copy of ``net`` for the fit ``token``.

    Tasks of the local scheduler (and of a worker with several threads) run at
    once in one process: each writes the parameters into its own copy.
    """
    held = getattr(_local, "net", None)
    if held is None or held[0] != token:
        held = _local.net = (token, copy.deepcopy(net))
    return held[1]
