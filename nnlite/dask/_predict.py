"""Lazy predictions on dask arrays: one task per block of rows, run by the in-memory code.

Each block is predicted by the very function that predicts numpy arrays (with
its checks), so labels equal the in-memory ones; probabilities equal them to the
bit whenever BLAS rounds the block's rows as it rounds them inside the whole
array (see the "Scale out on Dask" page), and within 1e-12 relative otherwise.
"""

from __future__ import annotations

import numpy as np

from ._blocks import aligned, as_dask

__all__ = ["predict", "map_rows"]


def map_rows(fn, X, where, n_features, out_width, dtype):
    """``fn`` applied to every block of rows of the dask array ``X``, lazily.

    Parameters
    ----------
    fn : callable ``fn(block) -> ndarray``
        In-memory function of a 2-D block; returns ``(rows,)`` when ``out_width``
        is None, else ``(rows, out_width)``.
    X : dask array of shape (n_samples, n_features)
    where : str
        Caller's name for error messages.
    n_features : int or None
        Expected width of ``X`` (checked before any task runs).
    out_width : int or None
    dtype : numpy dtype of the result

    Returns
    -------
    dask array of shape (n_samples,) or (n_samples, out_width)
    """
    X = as_dask(X, "X", where)
    if X.ndim != 2:
        raise ValueError(f"{where}: X must be 2-D (n_samples, n_features); got a dask array "
                         f"of dimension {X.ndim}.")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"X has {X.shape[1]} features, but {where} is expecting "
                         f"{n_features} features as input.")
    X = X.rechunk({1: -1})
    dtype = np.dtype(dtype)
    run = fn

    def fn(block):  # a block that travelled may be misaligned (see _blocks.aligned)
        return run(aligned(block))

    if out_width is None:
        return X.map_blocks(fn, drop_axis=1, dtype=dtype, meta=np.empty((0,), dtype))
    return X.map_blocks(fn, chunks=(X.chunks[0], (out_width,)), dtype=dtype,
                        meta=np.empty((0, 0), dtype))


def predict(net, X):
    """Lazy :meth:`nnlite.Sequential.predict` of the dask array ``X``.

    Parameters
    ----------
    net : Sequential
        A built network.
    X : dask array of shape (n_samples, n_in)

    Returns
    -------
    dask array of shape (n_samples, n_out)
        One task per block of ``X``'s rows; ``.compute()`` runs them.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from nnlite import Sequential, Dense, Tanh
    >>> net = Sequential([Dense(3), Tanh()], n_in=2, random_state=0)
    >>> X = da.ones((10, 2), chunks=4)
    >>> out = net.predict(X)
    >>> out.shape, out.numblocks
    ((10, 3), (3, 1))
    >>> bool(np.array_equal(out.compute(), net.predict(np.ones((10, 2)))))
    True
    """
    net._check_built()
    return map_rows(net.predict, X, "Sequential.predict", net.n_in, net.n_out, net.dtype)
